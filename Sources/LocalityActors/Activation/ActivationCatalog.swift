import DequeModule
import LocalityCore
import Logging
import Synchronization

/// The activations of this node (Orleans' Catalog): finds or creates the activation of
/// an id, runs calls as turns of it, and deactivates idle ones.
///
/// Lifecycle of an entry: `loading` (factory + `onActivate`, in a task of its own, so a
/// caller that gives up does not stop the load and the next caller finds it ready) →
/// `ready` → `deactivating` (mailbox closed, last turn runs `onDeactivate`) → gone.
/// A failed load removes the entry and every waiting caller gets the error.
///
/// Bounds: at most `maxActivations` loading or ready entries. Activating one more evicts
/// the least recently used activation that is idle (no turn held, nobody waiting); when
/// all are busy the new activation fails with `overloaded`. The same holds for the
/// optional memory budget (`memoryBudgetBytes`): each activation is estimated at
/// `activationOverheadBytes` plus the encoded size of its persistent state; a new
/// activation, or state growing past the budget, evicts idle activations in LRU order
/// (a new one that still does not fit is refused with `overloaded`). Recency is a queue
/// of (id, tick) records with lazy deletion, compacted when it outgrows twice the entries.
/// `loadingBytes` (state read while loading) holds at most one entry per loading
/// activation, so it is bounded by `maxActivations` too.
final class ActivationCatalog: Sendable {
    typealias Activator = @Sendable (VirtualActorID) async throws -> any VirtualActor
    /// Called when an activation leaves (deactivation, eviction, shutdown, stale discard)
    /// while no new activation of its id can start; returns the work to finish its
    /// departure (directory unregister), awaited before a deactivation completes.
    typealias Departure = @Sendable (VirtualActorID) -> @Sendable () async -> Void

    private enum Entry {
        case loading(Task<Activation, any Error>)
        case ready(Activation, tick: UInt64)
        case deactivating(Task<Void, Never>)
    }

    private struct State {
        var entries: [VirtualActorID: Entry] = [:]
        var recency = Deque<(VirtualActorID, UInt64)>()
        var tick: UInt64 = 0
        var live = 0
        var timers: [VirtualActorID: [Task<Void, Never>]] = [:]
        var closed = false
        var stats = CatalogStats()
        /// Estimated bytes of the live activations (see `ActorSettings.memoryBudgetBytes`).
        var memoryBytes = 0
        /// State bytes reported by activations still loading (read in `onActivate`).
        var loadingBytes: [VirtualActorID: Int] = [:]
    }

    private let settings: ActorSettings
    private let clock: any LocalityClock
    private let activator: Activator
    private let onDeparture: Departure
    private let logger: Logger
    let metrics: ActorMetrics
    private let state = Mutex(State())

    init(
        settings: ActorSettings, clock: any LocalityClock, logger: Logger, metrics: ActorMetrics = ActorMetrics(),
        activator: @escaping Activator, onDeparture: @escaping Departure = { _ in {} }
    ) {
        self.settings = settings
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
        self.activator = activator
        self.onDeparture = onDeparture
    }

    // MARK: Calls

    /// Runs `body` as a turn (or a reentrant step of the turn held by `chain`) of the
    /// activation of `id`, activating it first when needed.
    func withTurn<T>(_ id: VirtualActorID, chain: CallChainID, _ body: (Activation) async throws -> T) async throws -> T {
        for _ in 0...settings.maxActivationRetries {
            let activation = try await activation(for: id)
            let ticket: Mailbox.Ticket
            do {
                ticket = try await activation.mailbox.enter(chain)
            } catch is Mailbox.Closed {
                continue
            }
            defer { leave(activation, ticket) }
            return try await body(activation)
        }
        throw LocalityError(.unavailable, "actor \(id) kept deactivating; gave up after \(settings.maxActivationRetries) lookups")
    }

    /// The fast path of a call, without suspension: the ready activation of `id` with
    /// its turn entered for `chain` (counted as use), when it is ready and its turn is
    /// free or held by `chain`. Nil otherwise (loading, absent, closing, or busy): take
    /// `withTurn`. Pass the pair to `leave` when the call ends.
    func enterReady(_ id: VirtualActorID, chain: CallChainID) -> (activation: Activation, ticket: Mailbox.Ticket)? {
        guard let activation = state.withLock({ markUsed(id, &$0) }),
              let ticket = activation.mailbox.tryEnter(chain)
        else { return nil }
        return (activation, ticket)
    }

    /// Ends a turn (or a reentrant step) entered by `withTurn` or `enterReady`; returns
    /// the time it ended.
    @discardableResult
    func leave(_ activation: Activation, _ ticket: Mailbox.Ticket) -> Timestamp {
        let now = clock.now()
        activation.touch(now)
        activation.mailbox.leave(ticket)
        if activation.isStale { discard(activation) }
        return now
    }

    /// The ready activation of `id`, moved to the recent end of the LRU order (once per
    /// tick: an activation already the most recent is left in place). Under the lock.
    private func markUsed(_ id: VirtualActorID, _ state: inout State) -> Activation? {
        guard let index = state.entries.index(forKey: id),
              case .ready(let activation, let tick) = state.entries.values[index]
        else { return nil }
        if tick != state.tick {
            state.tick += 1
            state.entries.values[index] = .ready(activation, tick: state.tick)
            state.recency.append((id, state.tick))
            compactRecency(&state)
        }
        return activation
    }

    /// The activation of `id`, loading it when absent.
    func activation(for id: VirtualActorID) async throws -> Activation {
        while true {
            enum Step {
                case ready(Activation)
                case loading(Task<Activation, any Error>)
                case deactivating(Task<Void, Never>)
            }
            let step: Step = try state.withLock { state in
                if let activation = markUsed(id, &state) { return .ready(activation) }
                switch state.entries[id] {
                case .ready(let activation, _)?:
                    return .ready(activation)
                case .loading(let task)?:
                    return .loading(task)
                case .deactivating(let task)?:
                    return .deactivating(task)
                case nil:
                    guard !state.closed else { throw LocalityError(.unavailable, "actor system is shutting down") }
                    if state.live >= settings.maxActivations, !evictOne(&state, reason: .cap) {
                        state.stats.refusedAtCap += 1
                        metrics.refused(.cap)
                        throw LocalityError(.overloaded, "activation cap \(settings.maxActivations) reached and every activation is busy")
                    }
                    guard enforceBudget(&state, reserving: settings.activationOverheadBytes) else {
                        state.stats.refusedAtBudget += 1
                        metrics.refused(.memory)
                        throw LocalityError(
                            .overloaded, "memory budget \(settings.memoryBudgetBytes ?? 0) bytes reached and every activation is busy")
                    }
                    let task = Task.detached { try await self.load(id) }
                    state.entries[id] = .loading(task)
                    state.live += 1
                    state.memoryBytes += settings.activationOverheadBytes
                    recordGauges(state)
                    return .loading(task)
                }
            }
            switch step {
            case .ready(let activation): return activation
            case .loading(let task): return try await task.value
            case .deactivating(let task): await task.value
            }
        }
    }

    private func load(_ id: VirtualActorID) async throws -> Activation {
        do {
            let ledger = newLedger()
            let instance = try await IdempotencyLedger.$activating.withValue(ledger) { try await activator(id) }
            let activation = Activation(
                id: id, instance: instance, ledger: ledger, mailboxCapacity: settings.mailboxCapacity, now: clock.now(),
                depth: metrics.mailboxDepth)
            state.withLock { state in
                activation.stateBytes = state.loadingBytes.removeValue(forKey: id) ?? 0
                state.tick += 1
                state.entries[id] = .ready(activation, tick: state.tick)
                state.recency.append((id, state.tick))
                state.stats.activations += 1
            }
            metrics.activations.increment()
            return activation
        } catch {
            let timers = state.withLock { state in
                state.entries[id] = nil
                state.live -= 1
                state.memoryBytes -= settings.activationOverheadBytes + (state.loadingBytes.removeValue(forKey: id) ?? 0)
                state.stats.failedActivations += 1
                recordGauges(state)
                return state.timers.removeValue(forKey: id) ?? []
            }
            for timer in timers { timer.cancel() }
            metrics.failedActivations.increment()
            logger.warning("activation failed", metadata: ["actor": "\(id)", "error": "\(error)"])
            if let error = error as? LocalityError { throw error }
            throw LocalityError(.unavailable, "activation of \(id) failed: \(error)")
        }
    }

    /// An empty ledger on the wall clock (the window must mean the same on every node).
    private func newLedger() -> IdempotencyLedger {
        let clock = clock
        let dropped = metrics.idempotencyKeysDropped
        return IdempotencyLedger(
            settings: settings.idempotency,
            now: { (clock.now().nanoseconds + clock.wallClockOffset().nanoseconds) / 1_000_000 },
            dropped: { dropped.increment(by: $0) })
    }

    // MARK: Deactivation

    /// Deactivates every activation idle for at least `idleTimeout`; returns how many.
    @discardableResult
    func collectIdle() -> Int {
        let now = clock.now()
        return state.withLock { state in
            var collected = 0
            for (id, entry) in state.entries {
                guard case .ready(let activation, _) = entry,
                      now - activation.lastUsed >= settings.idleTimeout,
                      activation.mailbox.closeIfIdle()
                else { continue }
                state.entries[id] = .deactivating(startDeactivation(activation))
                removeLive(activation, &state)
                state.stats.idleDeactivations += 1
                metrics.deactivated(.idle)
                collected += 1
            }
            return collected
        }
    }

    /// Pops recency records until an idle activation is found and closed; false when
    /// every live activation is busy. Busy ones go back to the tail.
    private func evictOne(_ state: inout State, reason: ActorMetrics.EvictionReason) -> Bool {
        var scanned = 0
        let limit = state.recency.count
        while scanned < limit, let (id, tick) = state.recency.popFirst() {
            scanned += 1
            guard case .ready(let activation, let current)? = state.entries[id], current == tick else { continue }
            if activation.mailbox.closeIfIdle() {
                state.entries[id] = .deactivating(startDeactivation(activation))
                removeLive(activation, &state)
                switch reason {
                case .cap: state.stats.evictions += 1
                case .memory: state.stats.memoryEvictions += 1
                }
                metrics.evicted(reason)
                return true
            }
            state.tick += 1
            state.entries[id] = .ready(activation, tick: state.tick)
            state.recency.append((id, state.tick))
        }
        return false
    }

    /// While the estimate plus `reserving` bytes is over the budget, evicts idle
    /// activations in LRU order (one in a turn is never chosen). False when still over the
    /// budget because every activation is busy. Under the lock.
    @discardableResult
    private func enforceBudget(_ state: inout State, reserving: Int = 0) -> Bool {
        guard let budget = settings.memoryBudgetBytes else { return true }
        while state.memoryBytes + reserving > budget {
            guard evictOne(&state, reason: .memory) else { return false }
        }
        return true
    }

    /// Takes a live activation out of the counts (it starts deactivating or is dropped).
    private func removeLive(_ activation: Activation, _ state: inout State) {
        state.live -= 1
        state.memoryBytes -= settings.activationOverheadBytes + activation.stateBytes
        recordGauges(state)
    }

    private func recordGauges(_ state: State) {
        metrics.liveActivations.record(state.live)
        metrics.memoryBytes.record(state.memoryBytes)
    }

    /// The persistent state of `id` changed its encoded size by `delta` bytes: counts it
    /// (ready or loading activations; a deactivating one has left the total already) and
    /// evicts idle activations if the budget is now exceeded.
    func stateBytesChanged(_ id: VirtualActorID, by delta: Int) {
        guard delta != 0 else { return }
        state.withLock { state in
            switch state.entries[id] {
            case .ready(let activation, _)?:
                activation.stateBytes += delta
            case .loading?:
                state.loadingBytes[id, default: 0] += delta
            case .deactivating?, nil:
                return
            }
            state.memoryBytes += delta
            recordGauges(state)
            if delta > 0 { enforceBudget(&state) }
        }
    }

    private func compactRecency(_ state: inout State) {
        guard state.recency.count > 2 * state.entries.count + 1024 else { return }
        var records: [(VirtualActorID, UInt64)] = []
        records.reserveCapacity(state.entries.count)
        for (id, entry) in state.entries {
            if case .ready(_, let tick) = entry { records.append((id, tick)) }
        }
        records.sort { $0.1 < $1.1 }
        state.recency = Deque(records)
    }

    /// Called under the lock with the mailbox already closed.
    private func startDeactivation(_ activation: Activation) -> Task<Void, Never> {
        Task.detached {
            let timers = self.state.withLock { $0.timers.removeValue(forKey: activation.id) ?? [] }
            for timer in timers { timer.cancel() }
            if !activation.isStale {
                do {
                    try await activation.instance.runOnDeactivate()
                } catch {
                    self.logger.warning("onDeactivate failed", metadata: ["actor": "\(activation.id)", "error": "\(error)"])
                }
            }
            await self.onDeparture(activation.id)()
            self.state.withLock { state in
                if case .deactivating? = state.entries[activation.id] { state.entries[activation.id] = nil }
            }
        }
    }

    /// Drops an activation whose state went stale (conflict, unknown write outcome),
    /// without `onDeactivate`.
    private func discard(_ activation: Activation) {
        let (timers, departure) = state.withLock { state -> ([Task<Void, Never>], (@Sendable () async -> Void)?) in
            guard case .ready(let current, _)? = state.entries[activation.id], current === activation else { return ([], nil) }
            state.entries[activation.id] = nil
            removeLive(activation, &state)
            state.stats.staleDiscards += 1
            metrics.deactivated(activation.staleReason == .outcomeUnknown ? .outcomeUnknown : .conflict)
            return (state.timers.removeValue(forKey: activation.id) ?? [], onDeparture(activation.id))
        }
        activation.mailbox.close()
        for timer in timers { timer.cancel() }
        if let departure { Task.detached { await departure() } }
    }

    /// Deactivates the activation of `id` because another activation is the one recorded
    /// (directory conflict): at once when idle, else it is marked stale and dropped when
    /// its turn ends.
    func deactivateLoser(_ id: VirtualActorID) {
        state.withLock { state in
            guard case .ready(let activation, _)? = state.entries[id] else { return }
            if activation.mailbox.closeIfIdle() {
                state.entries[id] = .deactivating(startDeactivation(activation))
                removeLive(activation, &state)
            } else {
                activation.markStale(.conflict)
            }
        }
    }

    /// Drops the ready activation of `id` as stale (without `onDeactivate`): at once when
    /// it is idle, else when its turn ends.
    func discardStale(_ id: VirtualActorID, _ reason: Activation.StaleReason) {
        let idle = state.withLock { state -> Activation? in
            guard case .ready(let activation, _)? = state.entries[id] else { return nil }
            activation.markStale(reason)
            return activation.mailbox.closeIfIdle() ? activation : nil
        }
        if let idle { discard(idle) }
    }

    /// Marks the ready activation of `id` stale: it is dropped when its turn ends.
    func markStale(_ id: VirtualActorID, _ reason: Activation.StaleReason) {
        state.withLock { state in
            if case .ready(let activation, _)? = state.entries[id] { activation.markStale(reason) }
        }
    }

    /// Refuses new activations, deactivates every activation (waiting for turns in
    /// progress to end, up to `grace`) and waits for their `onDeactivate`.
    func shutdown(grace: Duration) async {
        let deadline = clock.now() + grace
        state.withLock { $0.closed = true }
        while true {
            let (pending, busy) = state.withLock { state -> ([Task<Void, Never>], Int) in
                var pending: [Task<Void, Never>] = []
                var busy = 0
                for (id, entry) in state.entries {
                    switch entry {
                    case .ready(let activation, _):
                        if activation.mailbox.closeIfIdle() || clock.now() >= deadline {
                            activation.mailbox.close()
                            let task = startDeactivation(activation)
                            state.entries[id] = .deactivating(task)
                            removeLive(activation, &state)
                            metrics.deactivated(.shutdown)
                            pending.append(task)
                        } else {
                            busy += 1
                        }
                    case .deactivating(let task): pending.append(task)
                    case .loading: busy += 1
                    }
                }
                return (pending, busy)
            }
            for task in pending { await task.value }
            if busy == 0 { return }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    // MARK: Timers

    func addTimer(_ id: VirtualActorID, _ task: Task<Void, Never>) {
        state.withLock { $0.timers[id, default: []].append(task) }
    }

    /// The ready activation of `id`, if any (no activation, no recency update).
    func readyActivation(_ id: VirtualActorID) -> Activation? {
        state.withLock { state in
            if case .ready(let activation, _)? = state.entries[id] { return activation }
            return nil
        }
    }

    // MARK: Inspection

    /// Ids of the ready activations.
    var activeIDs: [VirtualActorID] {
        state.withLock { state in
            state.entries.compactMap { id, entry in
                if case .ready = entry { return id }
                return nil
            }
        }
    }

    /// Loading plus ready activations.
    var liveCount: Int { state.withLock { $0.live } }

    var stats: CatalogStats { state.withLock { $0.stats } }

    /// Estimated bytes of the live activations.
    var memoryBytes: Int { state.withLock { $0.memoryBytes } }
}

/// What the catalog did so far.
public struct CatalogStats: Sendable, Equatable {
    /// Activations that finished loading.
    public var activations = 0
    /// Loads that failed (factory or `onActivate` threw).
    public var failedActivations = 0
    /// Activations deactivated for idleness.
    public var idleDeactivations = 0
    /// Idle activations evicted to make room under the cap.
    public var evictions = 0
    /// Activations dropped after a state conflict.
    public var staleDiscards = 0
    /// New activations refused because the cap was reached with every activation busy.
    public var refusedAtCap = 0
    /// Idle activations evicted to keep the memory estimate within the budget.
    public var memoryEvictions = 0
    /// New activations refused because they did not fit the memory budget with every
    /// activation busy.
    public var refusedAtBudget = 0
}
