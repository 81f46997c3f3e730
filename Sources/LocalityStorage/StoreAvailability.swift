import LocalityCore
import Logging
import Metrics
import Synchronization

/// A `StateStore` that answers within a bound while its backend is unreachable: the
/// store-outage behavior of a node ("memory keeps serving reads and writes fail fast").
///
/// - Every operation gets `operationTimeout`. One that fails with a backend error (a lost
///   connection, a refused connect, an I/O error) or does not answer in time marks the
///   store **down** and throws `storage_unavailable` (a read) or `outcome_unknown` (a
///   write or delete: it may have committed before the server went away).
/// - While down, every operation throws `storage_unavailable` at once, without touching
///   the backend: writes fail fast and an activation that must load its state fails
///   fast instead of hanging; live activations keep answering reads from memory.
/// - A probe reads the store's identity key with exponential backoff
///   (`probeInitialBackoff` doubling to `probeMaxBackoff`); its first success marks the
///   store **up** again, and service resumes by itself.
/// - `LocalityError`s of the backend (`conflict`, `overloaded`, …) pass through unchanged
///   and do not mark it down; its `unavailable` (what `PostgresStateStore` throws for a
///   lost or refused connection) counts as a backend failure.
/// - The probe checks that the store still has the identity the node established
///   (`expectIdentity`): a host name that now points to another database keeps it down.
///
/// Metrics: `locality_store_available` (1 up, 0 down), `locality_store_unavailable_total`
/// (operations refused or failed as unavailable). `isAvailable` feeds `/readyz`.
///
/// A timed-out operation keeps running in the background; if it commits after all, the
/// next write of that key finds a newer etag (`conflict`), the activation is dropped and
/// reloads what the store holds.
public final class StoreAvailability: StateStore {
    /// Bounds of the guard.
    public struct Settings: Sendable {
        /// Longest wait for one backend operation (default 1 s).
        public var operationTimeout: Duration = .seconds(1)
        /// First wait between probes of a down store (default 100 ms).
        public var probeInitialBackoff: Duration = .milliseconds(100)
        /// Longest wait between probes (default 500 ms: a cheap read, and service resumes
        /// within about this much of the store's return).
        public var probeMaxBackoff: Duration = .milliseconds(500)

        /// The defaults.
        public init() {}
    }

    private struct State {
        var available = true
        var probe: Task<Void, Never>?
        var closed = false
        var identity: String?
    }

    /// The backend.
    public let backend: any StateStore
    private let settings: Settings
    private let logger: Logger
    private let state = Mutex(State())
    private let availableGauge: Gauge
    private let unavailableCounter: Counter

    /// Guards `backend` with `settings`.
    public init(_ backend: any StateStore, settings: Settings = Settings(), logger: Logger, metricsFactory: any MetricsFactory = MetricsSystem.factory) {
        self.backend = backend
        self.settings = settings
        self.logger = logger
        self.availableGauge = Gauge(label: "locality_store_available", factory: metricsFactory)
        self.unavailableCounter = Counter(label: "locality_store_unavailable_total", factory: metricsFactory)
        availableGauge.record(1)
    }

    /// Whether the backend answered its last operation or probe.
    public var isAvailable: Bool { state.withLock { $0.available } }

    /// The store identity (`StoreIdentity`) the probe must read back before the store
    /// counts as up again.
    public func expectIdentity(_ identity: String) {
        state.withLock { $0.identity = identity }
    }

    public func read(_ key: StateKey) async throws -> VersionedValue {
        try await guarded(changes: false) { try await $0.read(key) }
    }

    public func write(_ key: StateKey, value: [UInt8], ifMatch: ETag) async throws -> ETag {
        try await guarded(changes: true) { try await $0.write(key, value: value, ifMatch: ifMatch) }
    }

    public func delete(_ key: StateKey, ifMatch: ETag) async throws -> ETag {
        try await guarded(changes: true) { try await $0.delete(key, ifMatch: ifMatch) }
    }

    public func close() async throws {
        let probe = state.withLock { state -> Task<Void, Never>? in
            state.closed = true
            return state.probe
        }
        probe?.cancel()
        try await backend.close()
    }

    /// Runs `operation` on the backend within the timeout. A write or delete that was
    /// handed to the backend and then failed or timed out may have committed all the
    /// same (the server went away after the commit, before its answer): it throws
    /// `outcome_unknown`, never `storage_unavailable` ("not applied").
    private func guarded<T: Sendable>(changes: Bool, _ operation: @escaping @Sendable (any StateStore) async throws -> T) async throws -> T {
        guard isAvailable else {
            unavailableCounter.increment()
            throw LocalityError(.storageUnavailable, "the state store is unreachable; it is probed in the background and service resumes when it answers")
        }
        do {
            return try await Self.withTimeout(settings.operationTimeout) { [backend] in try await operation(backend) }
        } catch let error as LocalityError where error.code != .deadlineExceeded && error.code != .unavailable {
            throw error  // conflict, overloaded, …: the backend answered
        } catch {
            markDown(error)
            unavailableCounter.increment()
            if changes {
                throw LocalityError(.outcomeUnknown, "the state store stopped answering during the write; it may or may not have committed: \(error)")
            }
            throw LocalityError(.storageUnavailable, "the state store did not answer: \(error)")
        }
    }

    private func markDown(_ cause: any Error) {
        let start = state.withLock { state -> Bool in
            guard state.available, !state.closed else { return false }
            state.available = false
            return true
        }
        guard start else { return }
        availableGauge.record(0)
        logger.error("state store unreachable: writes and activations fail fast with storage_unavailable until it answers", metadata: ["cause": "\(cause)"])
        let probe = Task { [weak self] in
            guard let self else { return }
            await self.probeUntilAvailable()
        }
        // close() may have run in between: it found no probe to cancel.
        let closed = state.withLock { state -> Bool in
            if !state.closed { state.probe = probe }
            return state.closed
        }
        if closed { probe.cancel() }
    }

    private func probeUntilAvailable() async {
        var backoff = settings.probeInitialBackoff
        while !Task.isCancelled {
            do { try await Task.sleep(for: backoff) } catch { return }
            do {
                let read = try await Self.withTimeout(settings.operationTimeout) { [backend] in try await backend.read(StoreIdentity.key) }
                let found = read.value.flatMap { String(bytes: $0, encoding: .utf8) }
                if let expected = state.withLock({ $0.identity }), found != expected {
                    logger.error("the state store answers, but with another identity: staying down", metadata: [
                        "expected": "\(expected)", "found": "\(found ?? "none")",
                    ])
                    backoff = settings.probeMaxBackoff
                    continue
                }
                state.withLock { state in
                    state.available = true
                    state.probe = nil
                }
                availableGauge.record(1)
                logger.notice("state store answers again: service resumes")
                return
            } catch {
                backoff = min(backoff * 2, settings.probeMaxBackoff)
            }
        }
    }

    /// Runs `operation` in its own task and answers with its result or, after `timeout`,
    /// `deadline_exceeded`, whichever comes first (the operation is not awaited past it).
    static func withTimeout<T: Sendable>(_ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let race = TimeoutRace<T>()
        return try await withCheckedThrowingContinuation { continuation in
            race.waiting.withLock { $0 = continuation }
            let work = Task {
                let result: Result<T, any Error>
                do { result = .success(try await operation()) } catch { result = .failure(error) }
                if race.finish(with: result) { race.timer.withLock { $0 }?.cancel() }
            }
            let timer = Task {
                try? await Task.sleep(for: timeout)
                if race.finish(with: .failure(LocalityError(.deadlineExceeded, "no answer within \(timeout)"))) { work.cancel() }
            }
            race.timer.withLock { $0 = timer }
        }
    }
}

/// The continuation an operation and its timer race to resume (the first one wins).
private final class TimeoutRace<T: Sendable>: Sendable {
    let waiting = Mutex<CheckedContinuation<T, any Error>?>(nil)
    /// The timer, cancelled when the operation wins (so it does not sleep out its time).
    let timer = Mutex<Task<Void, Never>?>(nil)

    /// Resumes the waiter with `result` if nobody did yet; tells whether this call did.
    @discardableResult
    func finish(with result: Result<T, any Error>) -> Bool {
        guard let continuation = waiting.withLock({ $0.take() }) else { return false }
        continuation.resume(with: result)
        return true
    }
}
