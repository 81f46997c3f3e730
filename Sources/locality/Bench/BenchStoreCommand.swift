import ArgumentParser
import Foundation
import LocalityCore
import LocalityStorage
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// `locality bench store`: write throughput and latency of a `StateStore` with W
/// concurrent writers (closed loop), for PostgreSQL with group commit and with one
/// transaction per write.
///
/// Every writer owns `--keys-per-writer` keys and overwrites them in turn with the etag
/// its previous write returned (the first pass creates them), so no write conflicts.
/// PostgreSQL runs write table `locality_bench_store` (or `?table=`), keys of a fresh
/// kind per run; SQLite runs write a temporary file.
struct BenchStoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Measure writes/s and latency of a state store (group commit vs. one transaction per write)."
    )

    enum Mode: String, ExpressibleByArgument, CaseIterable, Sendable {
        /// Group commit (the default store).
        case group
        /// One transaction per write (PostgreSQL only).
        case single
        /// Both, one after the other.
        case both
    }

    @Option(help: "State store: postgres://USER:PASSWORD@HOST:PORT/DB, sqlite:PATH or memory. Default: $LOCALITY_POSTGRES_URL.")
    var store: String?

    @Option(help: "Concurrent writers, each with one write outstanding.")
    var writers: Int = 64

    @Option(help: "Measured seconds per mode (after a 1 s warm-up).")
    var seconds: Double = 10

    @Option(help: "group, single or both (single and both: PostgreSQL only).")
    var mode: Mode = .both

    @Option(help: "Keys each writer overwrites in turn.")
    var keysPerWriter: Int = 64

    @Option(help: "Bytes per value.")
    var valueBytes: Int = 128

    @Option(help: "PostgreSQL pool connections (single-transaction writes run on these).")
    var connections: Int = 8

    @Flag(help: "Print one JSON object per mode.")
    var json = false

    func validate() throws {
        guard writers >= 1, writers <= 4096 else { throw ValidationError("--writers must be 1…4096") }
        guard seconds > 0, seconds <= 600 else { throw ValidationError("--seconds must be in (0, 600]") }
        guard keysPerWriter >= 1, keysPerWriter <= 100_000 else { throw ValidationError("--keys-per-writer must be 1…100000") }
        guard valueBytes >= 0, valueBytes <= 1 << 20 else { throw ValidationError("--value-bytes must be 0…1048576") }
        guard connections >= 1, connections <= 1_000 else { throw ValidationError("--connections must be 1…1000") }
    }

    func run() async throws {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        guard let text = store ?? ProcessInfo.processInfo.environment["LOCALITY_POSTGRES_URL"] else {
            throw ValidationError("no --store and no LOCALITY_POSTGRES_URL (eval \"$(scripts/services start postgres)\")")
        }
        let location = try StateStoreLocation(parsing: text)
        var logger = Logger(label: "locality.bench.store")
        logger.logLevel = .warning
        let modes: [Mode] = mode == .both ? [.group, .single] : [mode]
        for mode in modes {
            let report = try await measure(location, mode: mode, logger: logger)
            if json {
                print(try report.sortedKeysJSON())
            } else {
                print(report.text)
            }
        }
    }

    private func measure(_ location: StateStoreLocation, mode: Mode, logger: Logger) async throws -> StoreBenchReport {
        let (store, cleanup) = try await open(location, mode: mode, logger: logger)
        let kind = "bench-\(UInt32.random(in: 0...UInt32.max))"
        let value = [UInt8](repeating: 0x5A, count: valueBytes)
        let keysPerWriter = keysPerWriter
        let etags = WriterEtags(writers: writers, keysPerWriter: keysPerWriter)
        let loop: @Sendable (Double) async throws -> ClosedLoop.Result = { seconds in
            try await ClosedLoop.run(concurrency: writers, seconds: seconds) { worker, sequence in
                let slot = sequence % keysPerWriter
                let key = StateKey(kind: kind, id: "w\(worker)-k\(slot)")
                let etag = try await store.write(key, value: value, ifMatch: etags.get(worker, slot))
                etags.set(worker, slot, etag)
            }
        }
        _ = try await loop(1)
        let before = await StoreCounters.read(store)
        let measured = try await loop(seconds)
        let after = await StoreCounters.read(store)
        await cleanup()
        var report = StoreBenchReport()
        report.store = location.description
        report.mode = mode.rawValue
        report.writers = writers
        report.connections = connections
        report.valueBytes = valueBytes
        report.seconds = (measured.elapsedSeconds * 1000).rounded() / 1000
        report.writes = measured.calls
        report.errors = measured.errors
        report.writesPerSecond = (Double(measured.calls) / measured.elapsedSeconds).rounded()
        report.p50Milliseconds = measured.milliseconds(at: 50)
        report.p99Milliseconds = measured.milliseconds(at: 99)
        report.p999Milliseconds = measured.milliseconds(at: 99.9)
        if let before, let after {
            report.transactions = after.transactions - before.transactions
            report.largestBatch = after.largestBatch
            report.writesPerTransaction = report.transactions > 0
                ? (Double(after.committedWrites - before.committedWrites) / Double(report.transactions) * 10).rounded() / 10 : 0
        }
        return report
    }

    private func open(
        _ location: StateStoreLocation, mode: Mode, logger: Logger
    ) async throws -> (any StateStore, @Sendable () async -> Void) {
        switch location {
        case .postgres(var postgres):
            if postgres.table == "actor_state" { postgres.table = "locality_bench_store" }
            var settings = PostgresStoreSettings()
            settings.groupCommit = mode == .group
            settings.maxConnections = connections
            let store = try await postgres.open(settings: settings, logger: logger)
            return (store, { try? await store.close() })
        case .sqlite, .memory:
            guard mode == .group else {
                throw ValidationError("--mode \(mode.rawValue) needs a postgres:// store (SQLite and memory always group-commit)")
            }
            if case .sqlite(let path) = location {
                let store = try await SQLiteStateStore.open(path: path, logger: logger)
                return (store, { try? await store.close() })
            }
            let store = MemoryStateStore()
            return (store, {})
        }
    }
}

/// Transaction counters of the stores that have them.
private enum StoreCounters {
    struct Snapshot {
        var transactions: Int
        var committedWrites: Int
        var largestBatch: Int
    }

    static func read(_ store: any StateStore) async -> Snapshot? {
        if let postgres = store as? PostgresStateStore {
            let stats = await postgres.stats
            return Snapshot(transactions: stats.transactions, committedWrites: stats.committedWrites, largestBatch: stats.largestBatch)
        }
        if let sqlite = store as? SQLiteStateStore {
            let stats = await sqlite.stats
            return Snapshot(transactions: stats.transactions, committedWrites: stats.committedWrites, largestBatch: stats.largestBatch)
        }
        return nil
    }
}

/// The etag each writer holds for each of its keys.
private final class WriterEtags: Sendable {
    private let etags: Mutex<[ETag]>
    private let keysPerWriter: Int

    init(writers: Int, keysPerWriter: Int) {
        self.keysPerWriter = keysPerWriter
        etags = Mutex([ETag](repeating: .absent, count: writers * keysPerWriter))
    }

    func get(_ writer: Int, _ slot: Int) -> ETag { etags.withLock { $0[writer * keysPerWriter + slot] } }
    func set(_ writer: Int, _ slot: Int, _ etag: ETag) { etags.withLock { $0[writer * keysPerWriter + slot] = etag } }
}

/// What `bench store` prints, one per mode.
struct StoreBenchReport: Encodable {
    var store = ""
    var mode = ""
    var writers = 0
    var connections = 0
    var valueBytes = 0
    var seconds = 0.0
    var writes = 0
    var errors = 0
    var writesPerSecond = 0.0
    var p50Milliseconds = 0.0
    var p99Milliseconds = 0.0
    var p999Milliseconds = 0.0
    var transactions = 0
    var largestBatch = 0
    var writesPerTransaction = 0.0

    enum CodingKeys: String, CodingKey {
        case store, mode, writers, connections, seconds, writes, errors, transactions
        case valueBytes = "value_bytes"
        case writesPerSecond = "writes_per_s"
        case p50Milliseconds = "p50_ms"
        case p99Milliseconds = "p99_ms"
        case p999Milliseconds = "p999_ms"
        case largestBatch = "largest_batch"
        case writesPerTransaction = "writes_per_transaction"
    }

    var text: String {
        """
        \(store) \(mode): \(Int(writesPerSecond)) writes/s, p50 \(p50Milliseconds) ms, p99 \(p99Milliseconds) ms, p99.9 \(p999Milliseconds) ms \
        (\(writers) writers, \(writes) writes, \(errors) errors, \(transactions) transactions, \(writesPerTransaction) writes/transaction)
        """
    }
}
