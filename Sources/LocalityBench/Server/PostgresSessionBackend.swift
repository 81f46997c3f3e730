import LocalityCore
import Logging
import PostgresNIO

/// The stateless PostgreSQL baseline: every request goes to the database through a
/// postgres-nio `PostgresClient` pool. A move is one atomic upsert
/// (`INSERT … ON CONFLICT DO UPDATE … RETURNING`) committed with the server's default
/// `synchronous_commit = on` (WAL flushed before the reply; concurrent commits share
/// flushes); a view is one `SELECT`. Both are prepared statements, prepared once per
/// connection.
///
/// Bound: `maximumConnections` pooled connections; requests beyond wait in the pool's
/// queue (postgres-nio) until a connection frees up.
public final class PostgresSessionBackend: SessionBackend {
    public let storeName = "postgres"
    private let client: PostgresClient
    private let runner: Task<Void, Never>

    /// The table the baseline uses; created when missing, emptied by `open`.
    public static let table = "bench_sessions"

    private init(client: PostgresClient, runner: Task<Void, Never>) {
        self.client = client
        self.runner = runner
    }

    /// Connects a pool of `maximumConnections` to `url`, creates and empties the table.
    public static func open(url: PostgresURL, maximumConnections: Int = 32) async throws -> PostgresSessionBackend {
        var logger = Logger(label: "locality.bench.postgres")
        logger.logLevel = .error
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.username, password: url.password, database: url.database, tls: .disable
        )
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = maximumConnections
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let runner = Task { await client.run() }
        let backend = PostgresSessionBackend(client: client, runner: runner)
        do {
            try await client.query("CREATE TABLE IF NOT EXISTS bench_sessions (key TEXT PRIMARY KEY, score BIGINT NOT NULL, moves BIGINT NOT NULL)")
            try await client.query("TRUNCATE bench_sessions")
        } catch {
            runner.cancel()
            throw LocalityError(.unavailable, "postgres at \(url.host):\(url.port): \(String(reflecting: error))")
        }
        return backend
    }

    public func move(key: String, delta: Int64) async throws -> SessionState {
        for try await (score, moves) in try await client.execute(MoveStatement(key: key, delta: delta)) {
            return SessionState(score: score, moves: moves)
        }
        throw LocalityError(.internal, "postgres upsert returned no row")
    }

    public func view(key: String) async throws -> SessionState {
        for try await (score, moves) in try await client.execute(ViewStatement(key: key)) {
            return SessionState(score: score, moves: moves)
        }
        return SessionState()
    }

    public func stored(key: String) async throws -> SessionState {
        try await view(key: key)
    }

    public func close() async throws {
        runner.cancel()
        _ = await runner.value
    }

    struct MoveStatement: PostgresPreparedStatement {
        static let sql = """
            INSERT INTO bench_sessions (key, score, moves) VALUES ($1, $2, 1)
            ON CONFLICT (key) DO UPDATE SET score = bench_sessions.score + EXCLUDED.score, moves = bench_sessions.moves + 1
            RETURNING score, moves
            """
        typealias Row = (Int64, Int64)
        var key: String
        var delta: Int64

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(key)
            bindings.append(delta)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    struct ViewStatement: PostgresPreparedStatement {
        static let sql = "SELECT score, moves FROM bench_sessions WHERE key = $1"
        typealias Row = (Int64, Int64)
        var key: String

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(key)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }
}
