import Foundation
import LocalityCore
import Logging
import PostgresNIO
@testable import LocalityStorage

/// The PostgreSQL server of the tests: `LOCALITY_POSTGRES_URL`, which `./scripts/test`
/// always sets (it starts the server with `scripts/services start postgres`).
///
/// Without it the PostgreSQL tests FAIL (no silent skip). Every test gets its own table,
/// so concurrent or repeated runs never see each other's rows.
enum PostgresTestServer {
    static let variable = "LOCALITY_POSTGRES_URL"

    /// A location on the test server with a fresh table name.
    static func freshLocation(_ label: String) throws -> PostgresStoreLocation {
        guard let url = ProcessInfo.processInfo.environment[variable], !url.isEmpty else {
            throw LocalityError(
                .unavailable,
                "\(variable) is not set: the PostgreSQL tests need a real server. Run ./scripts/test, or start one with `eval \"$(scripts/services start postgres)\"` before `swift test`."
            )
        }
        var location = try PostgresStoreLocation(url: url)
        let suffix = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        location.table = "test_\(label)_\(suffix)"
        return location
    }

    /// Opens a store on a fresh table; the closure closes it and drops the table.
    static func openFresh(
        _ label: String, settings: PostgresStoreSettings = PostgresStoreSettings()
    ) async throws -> (PostgresStateStore, PostgresStoreLocation, @Sendable () async -> Void) {
        let location = try freshLocation(label)
        let store = try await location.open(settings: settings, logger: quietLogger)
        return (store, location, {
            try? await store.close()
            await dropTable(of: location)
        })
    }

    /// Drops the location's table (best effort: a failure leaves one stray table).
    static func dropTable(of location: PostgresStoreLocation) async {
        try? await withConnection(to: location) { connection in
            try await connection.query("DROP TABLE IF EXISTS \(unescaped: location.table)", logger: quietLogger)
        }
    }

    /// Runs `body` on a single plain connection to the location's server.
    static func withConnection(
        to location: PostgresStoreLocation, _ body: (PostgresConnection) async throws -> Void
    ) async throws {
        let configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.username,
            password: location.password, database: location.database, tls: .disable
        )
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: quietLogger)
        do {
            try await body(connection)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }

    static let quietLogger: Logger = {
        var logger = Logger(label: "locality.storage.tests")
        logger.logLevel = .warning
        return logger
    }()
}
