import Foundation
import LocalityCore
import Logging

/// Where actor state lives, as given on a command line (`locality node --store …`), and
/// how to open it.
///
/// Accepted forms:
/// - `memory`: a `MemoryStateStore` (nothing survives the process);
/// - `sqlite:PATH`, or a bare path ending in `.sqlite`, `.sqlite3` or `.db`: a
///   `SQLiteStateStore` at that file;
/// - `postgres://USER:PASSWORD@HOST:PORT/DATABASE` (also `postgresql://`; port 5432 when
///   omitted; optional `?table=NAME`, default `actor_state`): a `PostgresStateStore`.
///   Percent-encoded user names and passwords are decoded.
///
/// `open(logger:)` returns the store; close it with `StateStore.close()` (commits what
/// was accepted, then releases files or connections).
public enum StateStoreLocation: Sendable, Hashable, CustomStringConvertible {
    /// In process memory.
    case memory
    /// A SQLite file.
    case sqlite(path: String)
    /// A PostgreSQL server.
    case postgres(PostgresStoreLocation)

    /// Parses a location; throws `LocalityError(.badRequest)` naming the accepted forms.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "memory" {
            self = .memory
        } else if trimmed.hasPrefix("sqlite:") {
            let path = String(trimmed.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw Self.badLocation(text) }
            self = .sqlite(path: path)
        } else if trimmed.hasPrefix("postgres://") || trimmed.hasPrefix("postgresql://") {
            self = .postgres(try PostgresStoreLocation(url: trimmed))
        } else if [".sqlite", ".sqlite3", ".db"].contains(where: { trimmed.hasSuffix($0) }), !trimmed.contains("://") {
            self = .sqlite(path: trimmed)
        } else {
            throw Self.badLocation(text)
        }
    }

    /// Opens the store at this location (creating the file or table when missing).
    public func open(logger: Logger) async throws -> any StateStore {
        switch self {
        case .memory:
            return MemoryStateStore()
        case .sqlite(let path):
            return try await SQLiteStateStore.open(path: path, logger: logger)
        case .postgres(let location):
            return try await location.open(logger: logger)
        }
    }

    /// The location as text, without the password.
    public var description: String {
        switch self {
        case .memory: "memory"
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let location): location.description
        }
    }

    private static func badLocation(_ text: String) -> LocalityError {
        LocalityError(
            .badRequest,
            "unknown state store '\(text)': use memory, sqlite:PATH (or a path ending in .sqlite/.db) or postgres://USER:PASSWORD@HOST:PORT/DATABASE"
        )
    }
}

/// The server, credentials and table of a `PostgresStateStore`, parsed from a
/// `postgres://` URL.
public struct PostgresStoreLocation: Sendable, Hashable, CustomStringConvertible {
    /// Server host name or address.
    public var host: String
    /// Server port; default 5432.
    public var port: Int
    /// User to connect as.
    public var username: String
    /// The user's password, if any; never shown by `description`.
    public var password: String?
    /// Database name; nil: the server's default for the user.
    public var database: String?
    /// Table of the store, from `?table=`; default `actor_state`.
    public var table: String

    /// A location from its parts.
    public init(host: String, port: Int = 5432, username: String, password: String?, database: String?, table: String = "actor_state") {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.table = table
    }

    /// Parses `postgres://USER[:PASSWORD]@HOST[:PORT][/DATABASE][?table=NAME]`.
    public init(url text: String) throws {
        let bad = { (why: String) in LocalityError(.badRequest, "postgres location '\(Self.redacted(text))': \(why)") }
        guard let components = URLComponents(string: text), ["postgres", "postgresql"].contains(components.scheme ?? "") else {
            throw bad("not a postgres:// URL")
        }
        guard let host = components.host, !host.isEmpty else { throw bad("no host") }
        guard let user = components.user, !user.isEmpty else { throw bad("no user") }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        var table = "actor_state"
        for item in components.queryItems ?? [] {
            switch item.name {
            case "table":
                guard let value = item.value, PostgresBatchStatement.isPlainIdentifier(value) else {
                    throw bad("table must be a plain identifier ([a-z_][a-z0-9_]*)")
                }
                table = value
            default:
                throw bad("unknown option '\(item.name)' (only table=)")
            }
        }
        self.init(
            host: host, port: components.port ?? 5432,
            username: user.removingPercentEncoding ?? user,
            password: components.password.map { $0.removingPercentEncoding ?? $0 },
            database: database.isEmpty ? nil : database,
            table: table
        )
    }

    /// Opens a `PostgresStateStore` here with `settings` (its `table` is replaced by this
    /// location's).
    public func open(
        settings: PostgresStoreSettings = PostgresStoreSettings(), logger: Logger
    ) async throws -> PostgresStateStore {
        var settings = settings
        settings.table = table
        return try await PostgresStateStore.open(
            host: host, port: port, username: username, password: password, database: database,
            settings: settings, logger: logger
        )
    }

    /// `postgres://USER@HOST:PORT/DATABASE?table=NAME`, without the password.
    public var description: String {
        let path = database.map { "/\($0)" } ?? ""
        let query = table == "actor_state" ? "" : "?table=\(table)"
        return "postgres://\(username)@\(host):\(port)\(path)\(query)"
    }

    private static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let scheme = text.range(of: "://") else { return text }
        let credentials = text[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return text.replacingCharacters(in: colon..<at, with: ":***")
    }
}
