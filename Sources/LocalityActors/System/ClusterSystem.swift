import Distributed
import LocalityCore
import LocalityStorage
import Logging
import Metrics
import Synchronization

/// The virtual-actor runtime of one node: a `DistributedActorSystem` whose actors are
/// addressed by `VirtualActorID` and activated on their first call.
///
/// `actor(_:id:)` returns a reference without any network call or activation: `resolve`
/// always answers nil, so Swift makes a proxy, and every call on it comes to
/// `remoteCall`. There the runtime finds the activation (creating it with the kind's
/// factory and `onActivate`), and runs the call as a turn of it; a local call passes its
/// arguments and result as values, without serialization.
///
/// Usage:
/// ```swift
/// let system = ClusterSystem(stateStore: store)
/// try system.register(Player.self, kind: "player") { id, system in Player(actorSystem: system, id: id) }
/// let player = try system.actor(Player.self, id: "player-42")
/// try await player.addScore(10)
/// ```
public final class ClusterSystem: DistributedActorSystem, Sendable {
    /// Actors are named by kind and key.
    public typealias ActorID = VirtualActorID
    /// Records a call's arguments (see `ClusterInvocationEncoder`).
    public typealias InvocationEncoder = ClusterInvocationEncoder
    /// Hands a call's arguments to the target (see `ClusterInvocationDecoder`).
    public typealias InvocationDecoder = ClusterInvocationDecoder
    /// Receives a target's result (see `ClusterResultHandler`).
    public typealias ResultHandler = ClusterResultHandler
    /// Arguments, results and remote errors are `Codable`.
    public typealias SerializationRequirement = any Codable

    /// This node.
    public let node: NodeID
    /// Bounds and timers in force.
    public let settings: ActorSettings
    /// Where `PersistentState` reads and writes.
    public let stateStore: any StateStore
    let clock: any LocalityClock
    let logger: Logger
    let registry = KindRegistry()
    let catalog: ActivationCatalog
    private let chainSequence = Atomic<UInt64>(0)
    let anonymousSequence = Atomic<UInt64>(0)
    private let collector = Mutex<Task<Void, Never>?>(nil)
    /// Router and owner view, once attached (`attach(router:resolver:)`).
    let link = Mutex<RemoteLink?>(nil)
    /// Error types that travel back to remote callers as themselves.
    let remoteErrors = RemoteErrorAllowList()

    /// The id being activated by the running factory (read by `assignID`).
    @TaskLocal static var activating: VirtualActorID?

    /// Kind of the ids given to distributed actors created outside an activation.
    public static let anonymousKind = "_anonymous"

    /// A runtime for `node` on `stateStore` (default: a `MemoryStateStore`), without a cluster until `attach(router:resolver:)`; starts the idle collector.
    public init(
        node: NodeID = NodeID(name: "local", uid: 1),
        settings: ActorSettings = ActorSettings(),
        stateStore: any StateStore = MemoryStateStore(),
        clock: any LocalityClock = MonotonicClock(),
        logger: Logger = Logger(label: "locality.actors"),
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.node = node
        self.settings = settings
        self.stateStore = stateStore
        self.clock = clock
        var logger = logger
        logger[metadataKey: "node"] = "\(node)"
        self.logger = logger
        let owner = SystemReference()
        self.catalog = ActivationCatalog(settings: settings, clock: clock, logger: logger, metrics: ActorMetrics(factory: metricsFactory)) { id in
            guard let system = owner.system else { throw LocalityError(.unavailable, "actor system is gone") }
            return try await system.activatePlaced(id)
        } onDeparture: { id in
            owner.system?.placementDeparture(id) ?? {}
        }
        owner.system = self
        startCollector()
    }

    // MARK: Kinds and references

    /// Registers `type` as `kind`; `factory` makes the instance for an id on activation.
    /// The factory must create the actor with this system (`A(actorSystem: system, …)`).
    public func register<A: VirtualActor>(
        _ type: A.Type, kind: String,
        factory: @escaping @Sendable (VirtualActorID, ClusterSystem) async throws -> A
    ) throws {
        guard !kind.isEmpty, kind != Self.anonymousKind, !kind.contains("/") else {
            throw LocalityError(.badRequest, "kind name '\(kind)' is empty, reserved or contains '/'")
        }
        try registry.add(KindRegistration(kind: kind, type: type, create: factory))
    }

    /// A reference to the actor `id` of `type`'s registered kind. No network call, no
    /// activation: the first call activates it.
    public func actor<A: VirtualActor>(_ type: A.Type, id key: String) throws -> A {
        guard let kind = registry.kind(of: ObjectIdentifier(type)) else {
            throw LocalityError(.actorNotFound, "type \(A.self) is not registered as a kind")
        }
        return try A.resolve(id: VirtualActorID(kind: kind, key: key), using: self)
    }

    /// The stable wire name of a method target of `kind` (`increment(by:)`).
    public func stableName(of target: RemoteCallTarget, kind: String) throws -> String {
        guard let registration = registry.registration(kind) else {
            throw LocalityError(.actorNotFound, "no actor kind \(kind)")
        }
        return try registration.stableName(of: target)
    }

    /// Creates the instance of `id` with its kind's factory and runs `onActivate`.
    func activate(_ id: VirtualActorID) async throws -> any VirtualActor {
        guard let registration = registry.registration(id.kind) else {
            throw LocalityError(.actorNotFound, "no actor kind \(id.kind)")
        }
        let instance = try await Self.$activating.withValue(id) {
            try await registration.create(id, self)
        }
        guard instance.id == id else {
            throw LocalityError(.internal, "factory of kind \(id.kind) made an actor with id \(instance.id), not \(id)")
        }
        try await instance.runOnActivate()
        return instance
    }

    // MARK: Lifecycle

    private func startCollector() {
        let quantum = settings.collectionQuantum
        let task = Task.detached { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: quantum)
                guard let self else { return }
                self.catalog.collectIdle()
            }
        }
        collector.withLock { $0 = task }
    }

    /// Deactivates every activation idle for `settings.idleTimeout` now (the collector
    /// does this every `collectionQuantum`); returns how many.
    @discardableResult
    public func collectIdleActivations() -> Int {
        catalog.collectIdle()
    }

    /// Stops the collector, refuses new activations and deactivates every activation
    /// (running `onDeactivate`), waiting up to `grace` for turns in progress.
    public func shutdown(grace: Duration = .seconds(5)) async {
        collector.withLock { $0?.cancel() }
        await catalog.shutdown(grace: grace)
        link.withLock { $0 = nil }
    }

    deinit {
        collector.withLock { $0?.cancel() }
    }

    /// Ids of the activations on this node.
    public var activeIDs: [VirtualActorID] { catalog.activeIDs }

    /// Live (loading or ready) activations on this node.
    public var activationCount: Int { catalog.liveCount }

    /// What the activation catalog did so far.
    public var catalogStats: CatalogStats { catalog.stats }

    /// Estimated memory of the live activations, in bytes (see
    /// `ActorSettings.memoryBudgetBytes`).
    public var estimatedMemoryBytes: Int { catalog.memoryBytes }

    /// Called by `PersistentState` when the encoded size of its value changed.
    func stateSizeChanged(_ id: VirtualActorID, by delta: Int) {
        catalog.stateBytesChanged(id, by: delta)
    }

    /// Called by `PersistentState` when a write found a stale etag.
    func stateConflicted(_ id: VirtualActorID) {
        logger.warning("state conflict: dropping activation", metadata: ["actor": "\(id)"])
        catalog.markStale(id, .conflict)
    }

    /// Called by `PersistentState` when a write's outcome is unknown: the store may hold
    /// a newer version than memory. Memory keeps serving (the store may be down: reads go
    /// on) while `matchesStore` is retried in the background, with backoff, until the
    /// store answers; if it holds another version, the activation is dropped (at once when
    /// idle, else when its turn ends) and the next call reads what the store holds.
    func stateOutcomeUnknown(_ id: VirtualActorID, matchesStore: @escaping @Sendable () async throws -> Bool) {
        logger.warning("state write outcome unknown: checking the store's version once it answers", metadata: ["actor": "\(id)"])
        let (catalog, logger) = (catalog, logger)
        Task.detached {
            var pause = Duration.milliseconds(50)
            let giveUp = ContinuousClock.now + .seconds(600)
            while ContinuousClock.now < giveUp {
                do {
                    if try await matchesStore() { return }
                    logger.warning("state write outcome unknown: the store holds another version; dropping activation", metadata: ["actor": "\(id)"])
                    catalog.discardStale(id, .outcomeUnknown)
                    return
                } catch {
                    try? await Task.sleep(for: pause)
                    pause = min(pause * 2, .seconds(2))
                }
            }
            logger.error("state write outcome unknown: the store did not answer for 600 s; dropping activation", metadata: ["actor": "\(id)"])
            catalog.discardStale(id, .outcomeUnknown)
        }
    }

    // MARK: Timers

    /// Starts a timer on the activation of `actor` (call it from the actor, e.g. in
    /// `onActivate`). Each tick runs `body` as a turn; see `ActorTimer`.
    @discardableResult
    public func startTimer<A: VirtualActor>(
        for actor: A, every interval: Duration, keepsAlive: Bool = false,
        _ body: @escaping @Sendable (isolated A) async -> Void
    ) -> ActorTimer {
        let id = actor.id
        let instance = ObjectIdentifier(actor)
        let task = Task.detached { [weak self] in
            while !Task.isCancelled {
                do { try await Task.sleep(for: interval) } catch { return }
                guard let self else { return }
                guard let activation = self.catalog.readyActivation(id) else {
                    // Still loading (timer started in onActivate): try at the next tick.
                    continue
                }
                guard ObjectIdentifier(activation.instance) == instance else { return }
                let ticket: Mailbox.Ticket
                do {
                    ticket = try await activation.mailbox.enter(self.newChain())
                } catch is Mailbox.Closed {
                    return
                } catch {
                    continue
                }
                if keepsAlive { activation.touch(self.clock.now()) }
                _ = await actor.whenLocal(body)
                if keepsAlive { activation.touch(self.clock.now()) }
                activation.mailbox.leave(ticket)
            }
        }
        catalog.addTimer(id, task)
        return ActorTimer(task: task)
    }

    func newChain() -> CallChainID {
        let sequence = chainSequence.add(1, ordering: .relaxed).newValue
        return CallChainID(rawValue: (node.uid &* 0x9E37_79B9_7F4A_7C15) ^ sequence)
    }
}

/// Lets the catalog reach its system without a reference cycle.
private final class SystemReference: Sendable {
    private struct Weak { weak var value: ClusterSystem? }
    private let reference = Mutex(Weak())

    var system: ClusterSystem? {
        get { reference.withLock { $0.value } }
        set { reference.withLock { $0.value = newValue } }
    }
}
