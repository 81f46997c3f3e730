import LocalityCore
import Logging
import NIOCore
import NIOPosix
import SQLiteNIO

/// The embedded `StateStore`: one SQLite file in WAL mode, table
/// `actor_state(kind, id, value BLOB, etag INTEGER)`.
///
/// Group commit: writes (and deletes) wait in a bounded queue; one writer drains up to
/// `maxBatchSize` of them (each key once) into a single statement, its own transaction
/// (`SQLiteBatchStatement`: one trip to SQLite's thread per batch), and acknowledges each
/// only after it returned, so the cost of the commit's fsync is shared by the whole batch.
/// Writes that arrive while a batch commits form the next batch. A conflicting write
/// (stale etag) is refused inside the batch without aborting it; a failed statement
/// rolls back and fails every write of its batch.
///
/// Reads use a second connection: WAL lets it read concurrently with the writer, and it
/// only ever sees committed data (never a batch in progress).
///
/// Overload: more than `maxPendingWrites` waiting writes → `LocalityError(.overloaded)`.
public actor SQLiteStateStore: StateStore {
    /// The file this store writes.
    public nonisolated let path: String
    private let settings: SQLiteStoreSettings
    private let writer: SQLiteConnection
    private let reader: SQLiteConnection
    private var pending: [PendingChange] = []
    private var inFlight = 0
    private var flushing = false
    private var closed = false
    private var drained: [CheckedContinuation<Void, Never>] = []
    private var counters = SQLiteStoreStats()

    private struct PendingChange {
        var key: StateKey
        /// nil for a delete.
        var value: [UInt8]?
        var ifMatch: ETag
        var reply: CheckedContinuation<ETag, any Error>
    }

    private enum Outcome {
        case applied(ETag)
        case conflict(LocalityError)
    }

    private init(path: String, settings: SQLiteStoreSettings, writer: SQLiteConnection, reader: SQLiteConnection) {
        self.path = path
        self.settings = settings
        self.writer = writer
        self.reader = reader
    }

    /// Opens (creating when needed) the store at `path` and prepares its table.
    ///
    /// Several processes may open one new file at once (nodes sharing a store on one
    /// host): switching it to WAL can fail with SQLITE_BUSY without waiting for the busy
    /// timeout, so a busy preparation is retried, with a short jittered pause, until
    /// `settings.busyTimeout` has passed.
    public static func open(
        path: String, settings: SQLiteStoreSettings = SQLiteStoreSettings(),
        logger: Logger = Logger(label: "locality.storage.sqlite")
    ) async throws -> SQLiteStateStore {
        let giveUp = ContinuousClock.now + settings.busyTimeout
        while true {
            do {
                return try await openOnce(path: path, settings: settings, logger: logger)
            } catch let error as SQLiteError where Self.isBusy(error) && ContinuousClock.now < giveUp {
                logger.debug("SQLite file busy while opening; retrying", metadata: ["path": "\(path)", "error": "\(error)"])
                try await Task.sleep(for: .milliseconds(Int.random(in: 10...60)))
            }
        }
    }

    /// Whether `error` means another connection holds a lock the preparation needs.
    static func isBusy(_ error: SQLiteError) -> Bool {
        switch error.reason {
        case .busy, .busyInRecovery, .busyInSnapshot, .busyTimeout, .locked: true
        default: false
        }
    }

    private static func openOnce(path: String, settings: SQLiteStoreSettings, logger: Logger) async throws -> SQLiteStateStore {
        let writer = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        do {
            _ = try await writer.query("PRAGMA busy_timeout=\(settings.busyTimeoutMilliseconds)")
            _ = try await writer.query("PRAGMA journal_mode=WAL")
            _ = try await writer.query("PRAGMA synchronous=\(settings.synchronous.rawValue)")
            _ = try await writer.query("PRAGMA wal_autocheckpoint=\(max(0, settings.walAutoCheckpointPages))")
            _ = try await writer.query("""
                CREATE TABLE IF NOT EXISTS actor_state (
                    kind TEXT NOT NULL, id TEXT NOT NULL, value BLOB, etag INTEGER NOT NULL,
                    PRIMARY KEY (kind, id)
                ) WITHOUT ROWID
                """)
        } catch {
            try? await writer.close()
            throw error
        }
        let reader: SQLiteConnection
        do {
            reader = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        } catch {
            try? await writer.close()
            throw error
        }
        do {
            _ = try await reader.query("PRAGMA busy_timeout=\(settings.busyTimeoutMilliseconds)")
        } catch {
            try? await reader.close()
            try? await writer.close()
            throw error
        }
        return SQLiteStateStore(path: path, settings: settings, writer: writer, reader: reader)
    }

    /// Counters since open.
    public var stats: SQLiteStoreStats { counters }

    // MARK: StateStore

    public func read(_ key: StateKey) async throws -> VersionedValue {
        guard !closed else { throw Self.closedError(path) }
        let rows = try await reader.query(
            "SELECT value, etag FROM actor_state WHERE kind = ?1 AND id = ?2",
            [.text(key.kind), .text(key.id)]
        )
        guard let row = rows.first else { return VersionedValue(value: nil, etag: .absent) }
        let etag = ETag(Int64(row.column("etag")?.integer ?? 0))
        let value = row.column("value")?.blob.map { Array($0.readableBytesView) }
        return VersionedValue(value: value, etag: etag)
    }

    public func write(_ key: StateKey, value: [UInt8], ifMatch: ETag) async throws -> ETag {
        try await enqueue(key, value: value, ifMatch: ifMatch)
    }

    public func delete(_ key: StateKey, ifMatch: ETag) async throws -> ETag {
        try await enqueue(key, value: nil, ifMatch: ifMatch)
    }

    /// Refuses new work, commits what was accepted, then closes both connections.
    public func close() async throws {
        guard !closed else { return }
        closed = true
        if flushing || !pending.isEmpty {
            await withCheckedContinuation { drained.append($0) }
        }
        try await reader.close()
        try await writer.close()
    }

    // MARK: Group commit

    private func enqueue(_ key: StateKey, value: [UInt8]?, ifMatch: ETag) async throws -> ETag {
        guard !closed else { throw Self.closedError(path) }
        guard pending.count + inFlight < settings.maxPendingWrites else {
            counters.rejectedOverload += 1
            throw LocalityError(.overloaded, "sqlite store \(path): \(settings.maxPendingWrites) writes waiting for commit")
        }
        return try await withCheckedThrowingContinuation { reply in
            pending.append(PendingChange(key: key, value: value, ifMatch: ifMatch, reply: reply))
            if !flushing {
                flushing = true
                Task { await self.drain() }
            }
        }
    }

    /// Commits batches until the queue is empty.
    private func drain() async {
        while !pending.isEmpty {
            let batch = takeBatch()
            inFlight = batch.count
            await commit(batch)
            inFlight = 0
        }
        flushing = false
        let waiting = drained
        drained = []
        for waiter in waiting { waiter.resume() }
    }

    /// The next batch: queued changes in order, at most `maxBatchSize`, each key at most
    /// once (a second change of a key waits for the next batch, so it sees the first's
    /// outcome); the rest stay queued in their order.
    private func takeBatch() -> [PendingChange] {
        let limit = max(1, settings.maxBatchSize)
        var batch: [PendingChange] = []
        var keys = Set<StateKey>()
        var rest: [PendingChange] = []
        for (index, change) in pending.enumerated() {
            guard batch.count < limit else {
                rest.append(contentsOf: pending[index...])
                break
            }
            if keys.insert(change.key).inserted {
                batch.append(change)
            } else {
                rest.append(change)
            }
        }
        pending = rest
        return batch
    }

    /// Commits `batch` with one statement (`SQLiteBatchStatement`): one trip to SQLite's
    /// thread and one implicit transaction, whose commit is the batch's fsync. A delete of
    /// a key expected absent writes nothing: it is checked against committed data.
    private func commit(_ batch: [PendingChange]) async {
        var outcomes: [StateKey: Outcome] = [:]
        do {
            let writes = batch.filter { !($0.value == nil && $0.ifMatch == .absent) }
            for change in batch where change.value == nil && change.ifMatch == .absent {
                let existing = try await reader.query("SELECT 1 FROM actor_state WHERE kind = ?1 AND id = ?2", [.text(change.key.kind), .text(change.key.id)])
                outcomes[change.key] = existing.isEmpty ? .applied(.absent) : Self.conflict(change)
            }
            if !writes.isEmpty {
                let statement = SQLiteBatchStatement(writes.map { ($0.key, $0.value, $0.ifMatch) })
                let rows = try await writer.query(statement.sql, statement.binds)
                for row in rows {
                    guard let kind = row.column("kind")?.string, let id = row.column("id")?.string, let etag = row.column("etag")?.integer else { continue }
                    outcomes[StateKey(kind: kind, id: id)] = .applied(ETag(Int64(etag)))
                }
                counters.transactions += 1
            }
        } catch {
            let failure = LocalityError(.unavailable, "sqlite store \(path): transaction failed: \(error)")
            for change in batch { change.reply.resume(throwing: failure) }
            return
        }
        counters.largestBatch = max(counters.largestBatch, batch.count)
        for change in batch {
            switch outcomes[change.key] ?? Self.conflict(change) {
            case .applied(let etag):
                counters.committedWrites += 1
                change.reply.resume(returning: etag)
            case .conflict(let error):
                counters.conflicts += 1
                change.reply.resume(throwing: error)
            }
        }
    }

    private static func conflict(_ change: PendingChange) -> Outcome {
        .conflict(LocalityError(.conflict, "state \(change.key): etag \(change.ifMatch) is stale"))
    }

    private static func closedError(_ path: String) -> LocalityError {
        LocalityError(.unavailable, "sqlite store \(path) is closed")
    }
}
