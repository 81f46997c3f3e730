import Distributed
import LocalityActors
import LocalityCore
import LocalityStorage
import Synchronization

/// A counter whose value lives in a `PersistentState`; `add` keeps it in memory only
/// (flushed by `onDeactivate`), `increment` writes through.
distributed actor Counter: VirtualActor {
    typealias ActorSystem = ClusterSystem
    let state: PersistentState<Int>

    init(actorSystem: ClusterSystem, id: VirtualActorID) {
        self.actorSystem = actorSystem
        self.state = PersistentState(id: id, system: actorSystem, initial: 0)
    }

    func onActivate() async throws { try await state.read() }
    func onDeactivate() async throws { try await state.write() }

    distributed func increment(by amount: Int) async throws -> Int {
        state.value += amount
        try await state.write()
        return state.value
    }

    distributed func add(_ amount: Int) -> Int {
        state.value += amount
        return state.value
    }

    distributed func total() -> Int { state.value }

    distributed func sleep(milliseconds: Int) async throws {
        try await Task.sleep(for: .milliseconds(milliseconds))
    }
}

/// Counts how many of its calls overlap; each call sleeps across an `await`.
distributed actor Overlap: VirtualActor {
    typealias ActorSystem = ClusterSystem
    var running = 0
    var most = 0
    var order: [Int] = []

    init(actorSystem: ClusterSystem) {
        self.actorSystem = actorSystem
    }

    distributed func step(_ number: Int, milliseconds: Int) async throws {
        running += 1
        most = max(most, running)
        order.append(number)
        try await Task.sleep(for: .milliseconds(milliseconds))
        running -= 1
    }

    distributed func mostConcurrent() -> Int { most }
    distributed func arrivals() -> [Int] { order }
}

/// Calls a peer which calls back: A→B→A within one call chain.
distributed actor Bouncer: VirtualActor {
    typealias ActorSystem = ClusterSystem
    var visits = 0

    init(actorSystem: ClusterSystem) {
        self.actorSystem = actorSystem
    }

    distributed func bounce(to peer: String, remaining: Int) async throws -> Int {
        visits += 1
        guard remaining > 0 else { return 0 }
        let other = try actorSystem.actor(Bouncer.self, id: peer)
        return try await other.bounce(to: id.key, remaining: remaining - 1) + 1
    }

    distributed func visitCount() -> Int { visits }
}

/// Fails to activate when its key starts with "fail"; records activations.
distributed actor Fragile: VirtualActor {
    typealias ActorSystem = ClusterSystem
    static let activations = Mutex(0)

    init(actorSystem: ClusterSystem) {
        self.actorSystem = actorSystem
    }

    func onActivate() async throws {
        try await Task.sleep(for: .milliseconds(20))
        if id.key.hasPrefix("fail") { throw LocalityError(.internal, "storage for \(id.key) is broken") }
        Self.activations.withLock { $0 += 1 }
    }

    distributed func ping() -> String { "pong \(id.key)" }

    struct PlainError: Error {}

    distributed func failPlain() throws -> Int {
        throw PlainError()
    }

    distributed func fail(code: String) throws -> Int {
        throw LocalityError(LocalityError.Code(rawValue: code) ?? .internal, "asked to fail")
    }
}

/// Takes 300 ms to activate; counts its activations.
distributed actor SlowStart: VirtualActor {
    typealias ActorSystem = ClusterSystem
    static let activations = Mutex(0)

    init(actorSystem: ClusterSystem) {
        self.actorSystem = actorSystem
    }

    func onActivate() async throws {
        try await Task.sleep(for: .seconds(2))
        Self.activations.withLock { $0 += 1 }
    }

    distributed func ping() -> String { "ready \(id.key)" }
}

/// Ticks a timer started in `onActivate`.
distributed actor Ticker: VirtualActor {
    typealias ActorSystem = ClusterSystem
    let keepsAlive: Bool
    var ticks = 0
    var running = 0
    var most = 0

    init(actorSystem: ClusterSystem, keepsAlive: Bool) {
        self.actorSystem = actorSystem
        self.keepsAlive = keepsAlive
    }

    func onActivate() async throws {
        actorSystem.startTimer(for: self, every: .milliseconds(10), keepsAlive: keepsAlive) { ticker in
            ticker.running += 1
            ticker.most = max(ticker.most, ticker.running)
            ticker.ticks += 1
            try? await Task.sleep(for: .milliseconds(2))
            ticker.running -= 1
        }
    }

    distributed func tickCount() -> Int { ticks }
    distributed func mostConcurrent() -> Int { most }

    distributed func busy(milliseconds: Int) async throws {
        running += 1
        most = max(most, running)
        try await Task.sleep(for: .milliseconds(milliseconds))
        running -= 1
    }
}

/// Not registered with any system.
distributed actor Unregistered: VirtualActor {
    typealias ActorSystem = ClusterSystem
    distributed func hello() -> String { "hello" }
}

enum Fixture {
    static func system(
        settings: ActorSettings = ActorSettings(), store: any StateStore = MemoryStateStore(),
        clock: any LocalityClock = MonotonicClock(), node: NodeID = NodeID(name: "n1", uid: 1)
    ) throws -> ClusterSystem {
        let system = ClusterSystem(node: node, settings: settings, stateStore: store, clock: clock)
        try system.register(Counter.self, kind: "counter") { id, system in Counter(actorSystem: system, id: id) }
        try system.register(Overlap.self, kind: "overlap") { _, system in Overlap(actorSystem: system) }
        try system.register(Bouncer.self, kind: "bouncer") { _, system in Bouncer(actorSystem: system) }
        try system.register(Fragile.self, kind: "fragile") { _, system in Fragile(actorSystem: system) }
        try system.register(Ticker.self, kind: "ticker") { id, system in
            Ticker(actorSystem: system, keepsAlive: id.key.hasPrefix("alive"))
        }
        return system
    }

    /// Polls `condition` every 2 ms for at most `seconds`.
    static func eventually(seconds: Double = 5, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return try await condition()
    }
}
