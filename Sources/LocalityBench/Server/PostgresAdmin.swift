import LocalityCore
import Logging
import PostgresNIO

/// One-off statements on a PostgreSQL server (preparing the bench's tables), on a
/// short-lived client of one connection.
enum PostgresAdmin {
    static func execute(_ statements: [PostgresQuery], url: PostgresURL) async throws {
        var logger = Logger(label: "locality.bench.postgres-admin")
        logger.logLevel = .error
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.username, password: url.password, database: url.database, tls: .disable
        )
        configuration.options.maximumConnections = 1
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let runner = Task { await client.run() }
        defer { runner.cancel() }
        do {
            for statement in statements { try await client.query(statement) }
        } catch {
            throw LocalityError(.unavailable, "postgres at \(url.host):\(url.port): \(String(reflecting: error))")
        }
    }
}
