/// Configuration of `PostgresStateStore`.
public struct PostgresStoreSettings: Sendable {
    /// Table holding the state; created when missing. A plain SQL identifier
    /// (`[a-z_][a-z0-9_]*`, at most 63 characters), validated by `open`. Default `actor_state`.
    public var table: String = "actor_state"
    /// Most writes committed in one transaction (group commit batch). Default 256 writes.
    public var maxBatchSize: Int = 256
    /// Writes accepted but not yet committed, the batch in flight included. A write past
    /// this bound fails at once with `LocalityError(.overloaded)`. Default 10,000 writes.
    public var maxPendingWrites: Int = 10_000
    /// Group commit on (default): concurrent writes share one transaction, committed by up to
    /// `maxConcurrentBatches` writers at a time. Off: every write is its own transaction on a pooled connection, up
    /// to `maxConnections` at once (the baseline group commit is measured against).
    public var groupCommit: Bool = true
    /// Group-commit batches committing at once, each on its own pooled connection (capped
    /// by `maxConnections`). 1 is the classic single writer: a write that arrives while a
    /// batch commits waits for that commit and then its own. Default 4.
    public var maxConcurrentBatches: Int = 4
    /// Connections in the `PostgresClient` pool (reads, and writes without group commit).
    /// Default 8.
    public var maxConnections: Int = 8
    /// How long `open` waits for the server to answer before failing with
    /// `LocalityError(.unavailable)`. Default 10 s.
    public var connectTimeout: Duration = .seconds(10)

    /// Every bound at its default (given on each property).
    public init() {}
}

/// What a `PostgresStateStore` did so far; for tests, `status` and benchmarks.
public struct PostgresStoreStats: Sendable, Equatable {
    /// Transactions committed by the store's writes (one per batch with group commit,
    /// one per write without).
    public var transactions = 0
    /// Writes and deletes applied (conflicts not counted).
    public var committedWrites = 0
    /// Writes and deletes refused with `conflict`.
    public var conflicts = 0
    /// Writes refused with `overloaded` because `maxPendingWrites` was reached.
    public var rejectedOverload = 0
    /// Largest number of writes carried by one transaction.
    public var largestBatch = 0
    /// Most group-commit batches seen committing at once.
    public var largestConcurrentBatches = 0
    /// Writes waiting or in flight right now (the depth of the bounded queue).
    public var pendingWrites = 0
}
