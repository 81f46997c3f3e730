import Foundation
import Hummingbird
import LocalityCore
import LocalityStorage
import Logging
import PostgresNIO

/// Opens a system's backend and serves the shared HTTP front on 127.0.0.1.
public enum BenchServer {
    /// What the locality system's SQLite store promises.
    public static let sqliteDurability = "SQLite WAL, synchronous=FULL (fsync before each reply), group commit"

    /// What the locality system's PostgreSQL store promises.
    public static let postgresStoreDurability = "PostgreSQL (PostgresStateStore), synchronous_commit=on (WAL fsync before each reply), group commit"

    /// The table of the locality system's PostgreSQL store; emptied when the server opens.
    public static let actorStateTable = "bench_actor_state"

    /// Which store backs the locality system.
    public enum LocalityStore: String, Sendable, CaseIterable {
        /// PostgreSQL when a URL is given, else SQLite.
        case auto
        case sqlite
        case postgres
    }

    /// The backend of `system`: postgres and redis from their URLs; locality on
    /// PostgreSQL (`PostgresStateStore`, table `actorStateTable`) or on a SQLite file in
    /// `directory`, as `localityStore` says.
    public static func openBackend(
        system: BenchSystem, directory: String, postgresURL: String?, redisURL: String?, localityStore: LocalityStore = .auto
    ) async throws -> any SessionBackend {
        switch system {
        case .locality, .localityPostgres:
            if localityUsesPostgres(system: system, localityStore: localityStore, postgresURL: postgresURL) {
                let location = try await freshActorStateLocation(postgresURL: postgresURL)
                var logger = Logger(label: "locality.storage.postgres")
                logger.logLevel = .error
                let store = try await location.open(logger: logger)
                return try ActorSessionBackend(store: store, storeName: "postgres")
            }
            let store = try await SQLiteStateStore.open(path: directory + "/state.sqlite")
            return try ActorSessionBackend(store: store, storeName: "sqlite")
        case .postgres:
            guard let postgresURL else { throw LocalityError(.badRequest, "set LOCALITY_POSTGRES_URL for the postgres system") }
            return try await PostgresSessionBackend.open(url: PostgresURL(postgresURL))
        case .redis:
            guard let redisURL else { throw LocalityError(.badRequest, "set LOCALITY_REDIS_URL for the redis system") }
            return try await RedisSessionBackend.open(url: redisURL)
        }
    }

    /// Serves `backend` on `port` (0: any free port); calls `ready` with the bound port and
    /// returns once `stop` returns (the server is shut down then, the backend is not closed).
    public static func serve(
        backend: any SessionBackend, port: Int, ready: @escaping @Sendable (Int) -> Void, until stop: @escaping @Sendable () async -> Void
    ) async throws {
        var logger = Logger(label: "locality.bench.http")
        logger.logLevel = .critical
        let app = Application(
            router: BenchHTTPFront.router(backend: backend),
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { channel in ready(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            group.addTask { await stop() }
            _ = try await group.next()
            group.cancelAll()
        }
    }
}
