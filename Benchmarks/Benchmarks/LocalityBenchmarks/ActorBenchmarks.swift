import Benchmark
import Distributed
import LocalityActors
import LocalityCore
import LocalityStorage

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

/// The local call path of `ClusterSystem` and its turn gate (`Mailbox`).
func actorBenchmarks() {
    Benchmark("actor.localCall (ready activation, outside any chain)") { benchmark in
        let system = ClusterSystem(stateStore: MemoryStateStore())
        try system.register(BenchCounter.self, kind: "bench") { _, system in BenchCounter(actorSystem: system) }
        let counter = try system.actor(BenchCounter.self, id: "one")
        _ = try await counter.add(1)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try await counter.read())
        }
        benchmark.stopMeasurement()
        await system.shutdown()
    }

    Benchmark("mailbox.enter+leave (uncontended, no suspension)") { benchmark in
        let mailbox = Mailbox(capacity: 1_000)
        let chain = CallChainID(rawValue: 7)
        for _ in benchmark.scaledIterations {
            guard let ticket = mailbox.tryEnter(chain) else { fatalError("turn was held") }
            mailbox.leave(ticket)
        }
    }

    Benchmark("mailbox.enter+leave (async entry)") { benchmark in
        let mailbox = Mailbox(capacity: 1_000)
        let chain = CallChainID(rawValue: 7)
        for _ in benchmark.scaledIterations {
            let ticket = try await mailbox.enter(chain)
            mailbox.leave(ticket)
        }
    }
}
