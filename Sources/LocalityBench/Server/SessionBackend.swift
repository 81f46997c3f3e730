/// One implementation of the stateful benchmark's service behind the shared HTTP front.
///
/// `move` must be durable before it returns (the acknowledgement promise of each system is
/// spelled out in the report, from `BenchStatefulCommand.durability`); `view` derives from
/// the current state.
public protocol SessionBackend: Sendable {
    /// Which store holds the state, one word (`sqlite`, `postgres`, `redis`).
    var storeName: String { get }
    /// Applies a move of `delta` points to `key`; returns the new state once durable.
    func move(key: String, delta: Int64) async throws -> SessionState
    /// The current state of `key` (zero when never written).
    func view(key: String) async throws -> SessionState
    /// The state of `key` as its store holds it, bypassing any cache (for verification).
    func stored(key: String) async throws -> SessionState
    /// Releases connections and files.
    func close() async throws
}

/// Which implementation a bench server runs.
public enum BenchSystem: String, Sendable, CaseIterable, Codable {
    /// Locality: one virtual actor per key holding its state, write-through to its
    /// embedded store (SQLite, the product's default; `--locality-store` can change it).
    case locality
    /// Locality with PostgreSQL as its store (`PostgresStateStore`, group commit), on the
    /// same server as the `postgres` baseline.
    case localityPostgres = "locality-pg"
    /// Stateless: every request reads and updates PostgreSQL.
    case postgres
    /// Stateless: every request runs a Lua script in Redis.
    case redis
}
