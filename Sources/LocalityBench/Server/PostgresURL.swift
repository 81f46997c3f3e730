import Foundation
import LocalityCore

/// A `postgres://user:password@host:port/database` URL taken apart.
public struct PostgresURL: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String?

    /// Parses `text`; throws `bad_request` when it is not a postgres URL with a host.
    public init(_ text: String) throws {
        guard let components = URLComponents(string: text),
              components.scheme == "postgres" || components.scheme == "postgresql",
              let host = components.host, !host.isEmpty else {
            throw LocalityError(.badRequest, "not a postgres://user@host:port/db URL: \(text)")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = components.user ?? "postgres"
        self.password = components.password
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.database = path.isEmpty ? nil : path
    }
}
