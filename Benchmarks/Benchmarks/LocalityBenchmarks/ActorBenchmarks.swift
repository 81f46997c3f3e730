import Benchmark
import Distributed
import LocalityActors
import LocalityCore
import LocalityStorage
import Synchronization

/// A virtual actor with one in-memory counter.
distributed actor BenchCounter: VirtualActor {
    typealias ActorSystem = ClusterSystem
    var count = 0

    init(actorSystem: ClusterSystem) {
        self.actorSystem = actorSystem
    }

    distributed func add(_ amount: Int) -> Int {
        count += amount
        return count
    }

    distributed func read() -> Int { count }
}

/// A `ClusterSystem` with one ready `BenchCounter` activation, made in a benchmark's
/// setup and shut down in its teardown, so that samples measure calls only.
final class LocalCallFixture: Sendable {
    private let running = Mutex<(system: ClusterSystem, counter: BenchCounter)?>(nil)

    /// Starts the system and activates the counter with a first call.
    func start() async throws {
        let system = ClusterSystem(stateStore: MemoryStateStore())
        try system.register(BenchCounter.self, kind: "bench") { _, system in BenchCounter(actorSystem: system) }
        let counter = try system.actor(BenchCounter.self, id: "one")
        _ = try await counter.add(1)
        running.withLock { $0 = (system, counter) }
    }

    /// The activated counter (a reference through the system, as a caller holds one).
    func counter() throws -> BenchCounter {
        guard let counter = running.withLock({ $0?.counter }) else {
            throw LocalityError(.unavailable, "benchmark fixture not started")
        }
        return counter
    }

    /// Shuts the system down (deactivating the counter).
    func stop() async {
        let system = running.withLock { running -> ClusterSystem? in
            defer { running = nil }
            return running?.system
        }
        await system?.shutdown()
    }
}

/// The local call path of `ClusterSystem` and its turn gate (`Mailbox`).
func actorBenchmarks() {
    let fixture = LocalCallFixture()
    // `await counter.read()` on a ready local activation, outside any call chain: the
    // whole `ClusterSystem` local path (proxy, `remoteCall`, catalog, turn, result).
    Benchmark("actor.local-call") { benchmark in
        let counter = try fixture.counter()
        for _ in benchmark.scaledIterations {
            blackHole(try await counter.read())
        }
    } setup: {
        try await fixture.start()
    } teardown: {
        await fixture.stop()
    }

    // `Mailbox.tryEnter` + `leave` on a free turn gate (the fast path).
    Benchmark("mailbox.try-enter-leave") { benchmark in
        let mailbox = Mailbox(capacity: 1_000)
        let chain = CallChainID(rawValue: 7)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            guard let ticket = mailbox.tryEnter(chain) else { fatalError("turn was held") }
            mailbox.leave(ticket)
        }
    }

    // `await Mailbox.enter` + `leave` on a free turn gate: the async API, no suspension.
    Benchmark("mailbox.enter-leave-async") { benchmark in
        let mailbox = Mailbox(capacity: 1_000)
        let chain = CallChainID(rawValue: 7)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let ticket = try await mailbox.enter(chain)
            mailbox.leave(ticket)
        }
    }
}
