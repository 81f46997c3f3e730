import LocalityCore
import Logging
import NIOCore
import PostgresNIO

/// The shared `StateStore`: a PostgreSQL table `(kind text, id text, value bytea,
/// etag bigint, PRIMARY KEY (kind, id))`, reached through a pooled `PostgresClient`.
/// The version rules are those of every store (see `StateStore`, `PostgresBatchStatement`).
///
/// Group commit (default): writes and deletes wait in a bounded queue; a writer takes up
/// to `maxBatchSize` of them and applies them in one transaction, usually one SQL statement
/// (one round trip), and acknowledges each only after the commit returned, so one WAL
/// flush is shared by the whole batch. Up to `maxConcurrentBatches` batches commit at once
/// on pooled connections (PostgreSQL shares WAL flushes between concurrent commits too), so
/// a write that arrives while a batch commits starts the next batch at once instead of
/// waiting a whole commit for its turn; only when every writer is busy do writes queue and
/// form bigger batches. Two writes of one key are never in flight together through an
/// actor (it awaits the first before it can know the etag the second must match).
/// A stale etag refuses only its own write (`conflict`); a failed transaction rolls back
/// and fails every write of its batch with `unavailable`. With `groupCommit` off every
/// write is its own transaction on a pooled connection.
///
/// Reads run on the pool and see only committed data.
///
/// Overload: more than `maxPendingWrites` waiting or in-flight writes →
/// `LocalityError(.overloaded)` at once.
///
/// Lifecycle: `open` starts the client's `run()` in a task; `close()` refuses new work,
/// commits what was accepted, then cancels that task, which closes the connections.
public actor PostgresStateStore: StateStore {
    /// `host:port/database table` (no credentials), for logs and errors.
    public nonisolated let endpoint: String
    private let settings: PostgresStoreSettings
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger
    private var pending: [PendingChange] = []
    /// Writes taken off `pending` (the batch being committed) or running alone.
    private var inFlight = 0
    /// Group-commit batches committing now (≤ `settings.maxConcurrentBatches`).
    private var batchesInFlight = 0
    private var closed = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    private var counters = PostgresStoreStats()

    private struct PendingChange {
        var change: PostgresChange
        var reply: CheckedContinuation<ETag, any Error>
    }

    private init(
        endpoint: String, settings: PostgresStoreSettings, client: PostgresClient,
        runner: Task<Void, Never>, logger: Logger
    ) {
        self.endpoint = endpoint
        self.settings = settings
        self.client = client
        self.runner = runner
        self.logger = logger
    }

    deinit {
        // A store dropped without `close()` still stops its client.
        runner.cancel()
    }

    /// Connects to the server, creates the table when missing and returns the open store.
    /// Throws `LocalityError(.badRequest)` for invalid settings and
    /// `LocalityError(.unavailable)` when the server does not answer within
    /// `settings.connectTimeout`.
    public static func open(
        host: String, port: Int = 5432, username: String, password: String?, database: String?,
        settings: PostgresStoreSettings = PostgresStoreSettings(),
        logger: Logger = Logger(label: "locality.storage.postgres")
    ) async throws -> PostgresStateStore {
        guard PostgresBatchStatement.isPlainIdentifier(settings.table) else {
            throw LocalityError(.badRequest, "postgres store table '\(settings.table)' is not a plain identifier ([a-z_][a-z0-9_]*, at most 63)")
        }
        guard settings.maxBatchSize >= 1, settings.maxPendingWrites >= 1, settings.maxConnections >= 1,
            settings.maxConcurrentBatches >= 1
        else {
            throw LocalityError(
                .badRequest, "postgres store: maxBatchSize, maxPendingWrites, maxConnections and maxConcurrentBatches must be at least 1")
        }
        let endpoint = "\(host):\(port)/\(database ?? username) \(settings.table)"
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: .disable
        )
        configuration.options.maximumConnections = settings.maxConnections
        configuration.options.connectTimeout = settings.connectTimeout
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        // The client serves queries only while `run()` runs. Wait until its task is
        // entering `run()`, so the first query does not race the start.
        let (started, signal) = AsyncStream<Never>.makeStream()
        let runner = Task {
            signal.finish()
            await client.run()
        }
        for await _ in started {}
        do {
            try await withDeadline(settings.connectTimeout, endpoint: endpoint) {
                do {
                    try await client.query(PostgresBatchStatement.createTable(settings.table), logger: logger)
                } catch {
                    // Two stores creating one table at the same moment: one of them fails on
                    // the catalog's unique index; the table exists on the second try.
                    try await client.query(PostgresBatchStatement.createTable(settings.table), logger: logger)
                }
            }
        } catch {
            runner.cancel()
            await runner.value
            if let error = error as? LocalityError { throw error }
            throw LocalityError(.unavailable, "postgres store \(endpoint): \(String(reflecting: error))")
        }
        return PostgresStateStore(endpoint: endpoint, settings: settings, client: client, runner: runner, logger: logger)
    }

    /// Counters since open.
    public var stats: PostgresStoreStats {
        var stats = counters
        stats.pendingWrites = pending.count + inFlight
        return stats
    }

    // MARK: StateStore

    public func read(_ key: StateKey) async throws -> VersionedValue {
        guard !closed else { throw closedError() }
        let rows: PostgresRowSequence
        do {
            rows = try await client.query(
                "SELECT value, etag FROM \(unescaped: settings.table) WHERE kind = \(key.kind) AND id = \(key.id)",
                logger: logger
            )
        } catch {
            throw LocalityError(.unavailable, "postgres store \(endpoint): read \(key) failed: \(String(reflecting: error))")
        }
        for try await (value, etag) in rows.decode((ByteBuffer?, Int64).self) {
            return VersionedValue(value: value.map { Array($0.readableBytesView) }, etag: ETag(etag))
        }
        return VersionedValue(value: nil, etag: .absent)
    }

    public func write(_ key: StateKey, value: [UInt8], ifMatch: ETag) async throws -> ETag {
        try await submit(PostgresChange(key: key, value: value, ifMatch: ifMatch))
    }

    public func delete(_ key: StateKey, ifMatch: ETag) async throws -> ETag {
        try await submit(PostgresChange(key: key, value: nil, ifMatch: ifMatch))
    }

    /// Refuses new work, commits what was accepted, then stops the client (closing its
    /// connections).
    public func close() async throws {
        guard !closed else { return }
        closed = true
        if inFlight > 0 || !pending.isEmpty {
            await withCheckedContinuation { idleWaiters.append($0) }
        }
        runner.cancel()
        await runner.value
    }

    // MARK: Writes

    private func submit(_ change: PostgresChange) async throws -> ETag {
        guard !closed else { throw closedError() }
        guard pending.count + inFlight < settings.maxPendingWrites else {
            counters.rejectedOverload += 1
            throw LocalityError(.overloaded, "postgres store \(endpoint): \(settings.maxPendingWrites) writes waiting for commit")
        }
        guard settings.groupCommit else { return try await commitAlone(change) }
        return try await withCheckedThrowingContinuation { reply in
            pending.append(PendingChange(change: change, reply: reply))
            startBatches()
        }
    }

    /// Group commit: starts batches off the queue while fewer than `maxConcurrentBatches` commit.
    private func startBatches() {
        let writers = min(settings.maxConcurrentBatches, settings.maxConnections)
        while !pending.isEmpty, batchesInFlight < writers {
            let count = min(pending.count, settings.maxBatchSize)
            let batch = Array(pending.prefix(count))
            pending.removeFirst(count)
            inFlight += batch.count
            batchesInFlight += 1
            counters.largestConcurrentBatches = max(counters.largestConcurrentBatches, batchesInFlight)
            Task { await self.commitAndContinue(batch) }
        }
    }

    private func commitAndContinue(_ batch: [PendingChange]) async {
        await commit(batch)
        inFlight -= batch.count
        batchesInFlight -= 1
        startBatches()
        resumeIdleWaiters()
    }

    private func commit(_ batch: [PendingChange]) async {
        let changes = batch.map(\.change)
        let outcomes: [ETag?]
        do {
            outcomes = try await applyInOneTransaction(changes)
        } catch {
            let failure = LocalityError(.unavailable, "postgres store \(endpoint): transaction failed: \(String(reflecting: error))")
            for pending in batch { pending.reply.resume(throwing: failure) }
            return
        }
        counters.transactions += 1
        counters.largestBatch = max(counters.largestBatch, batch.count)
        for (pending, outcome) in zip(batch, outcomes) {
            switch outcome {
            case .some(let etag):
                counters.committedWrites += 1
                pending.reply.resume(returning: etag)
            case .none:
                counters.conflicts += 1
                pending.reply.resume(throwing: Self.conflict(pending.change))
            }
        }
    }

    /// Without group commit: one write, one transaction.
    private func commitAlone(_ change: PostgresChange) async throws -> ETag {
        inFlight += 1
        defer {
            inFlight -= 1
            resumeIdleWaiters()
        }
        let outcome: ETag?
        do {
            outcome = try await applyInOneTransaction([change])[0]
        } catch {
            throw LocalityError(.unavailable, "postgres store \(endpoint): transaction failed: \(String(reflecting: error))")
        }
        counters.transactions += 1
        counters.largestBatch = max(counters.largestBatch, 1)
        guard let etag = outcome else {
            counters.conflicts += 1
            throw Self.conflict(change)
        }
        counters.committedWrites += 1
        return etag
    }

    /// Applies `changes` atomically: one statement (its own transaction) when their keys
    /// are distinct, else one statement per round inside BEGIN … COMMIT.
    private func applyInOneTransaction(_ changes: [PostgresChange]) async throws -> [ETag?] {
        let rounds = PostgresBatchStatement.rounds(of: changes)
        let table = settings.table
        let logger = logger
        if rounds.count == 1 {
            return try await client.withConnection { connection in
                try await PostgresBatchStatement.apply(changes, table: table, on: connection, logger: logger)
            }
        }
        return try await client.withTransaction(logger: logger) { connection in
            var outcomes = [ETag?](repeating: nil, count: changes.count)
            for round in rounds {
                let applied = try await PostgresBatchStatement.apply(
                    round.map { changes[$0] }, table: table, on: connection, logger: logger
                )
                for (index, outcome) in zip(round, applied) { outcomes[index] = outcome }
            }
            return outcomes
        }
    }

    private func resumeIdleWaiters() {
        guard inFlight == 0, pending.isEmpty, !idleWaiters.isEmpty else { return }
        let waiting = idleWaiters
        idleWaiters = []
        for waiter in waiting { waiter.resume() }
    }

    private static func conflict(_ change: PostgresChange) -> LocalityError {
        LocalityError(.conflict, "state \(change.key): etag \(change.ifMatch) is stale")
    }

    private func closedError() -> LocalityError {
        LocalityError(.unavailable, "postgres store \(endpoint) is closed")
    }
}

/// Runs `operation`, failing with `LocalityError(.unavailable)` if it has not finished
/// within `timeout` (the operation is cancelled).
private func withDeadline(
    _ timeout: Duration, endpoint: String, _ operation: @escaping @Sendable () async throws -> Void
) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw LocalityError(.unavailable, "postgres store \(endpoint): no answer within \(timeout)")
        }
        defer { group.cancelAll() }
        try await group.next()
    }
}
