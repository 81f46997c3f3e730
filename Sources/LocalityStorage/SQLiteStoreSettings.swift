/// Configuration of `SQLiteStateStore`.
public struct SQLiteStoreSettings: Sendable {
    /// How SQLite syncs a commit to disk (`PRAGMA synchronous`).
    public enum Synchronous: String, Sendable {
        /// fsync the WAL on every commit: an acknowledged write survives a power loss.
        case full = "FULL"
        /// fsync only at checkpoints: an acknowledged write survives a process crash,
        /// not a power loss (SQLite's WAL + NORMAL guarantee).
        case normal = "NORMAL"
    }

    /// Most writes committed in one transaction (group commit batch). Default 256 writes.
    public var maxBatchSize: Int = 256
    /// Writes accepted but not yet committed, the batch in flight included. A write past
    /// this bound fails at once with `LocalityError(.overloaded)`. Default 10,000 writes.
    public var maxPendingWrites: Int = 10_000
    /// Durability of a commit. Default `.full`.
    public var synchronous: Synchronous = .full
    /// Pages in the WAL before SQLite checkpoints it into the main file
    /// (`PRAGMA wal_autocheckpoint`). Default 1,000 pages.
    public var walAutoCheckpointPages: Int = 1_000
    /// How long a statement waits for another process's lock on the same file before it
    /// fails with SQLITE_BUSY (`PRAGMA busy_timeout`): lets several nodes on one machine
    /// share one database file. Default 5 s.
    public var busyTimeout: Duration = .seconds(5)

    /// Every bound at its default (given on each property).
    public init() {}

    var busyTimeoutMilliseconds: Int64 {
        let (seconds, attoseconds) = busyTimeout.components
        return max(0, seconds * 1_000 + attoseconds / 1_000_000_000_000_000)
    }
}

/// What a `SQLiteStateStore` did so far; for tests, `status` and benchmarks.
public struct SQLiteStoreStats: Sendable, Equatable {
    /// Transactions committed by the group-commit writer.
    public var transactions = 0
    /// Writes and deletes applied (conflicts not counted).
    public var committedWrites = 0
    /// Writes and deletes refused with `conflict`.
    public var conflicts = 0
    /// Writes refused with `overloaded` because `maxPendingWrites` was reached.
    public var rejectedOverload = 0
    /// Largest number of writes carried by one transaction.
    public var largestBatch = 0
}
