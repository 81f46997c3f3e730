import Distributed
import LocalityActors
import LocalityCore
import LocalityStorage
import MetricsTestKit
import Testing
@testable import LocalityActors

/// Keeps a blob of bytes in its persistent state; `store` writes through.
distributed actor Blob: VirtualActor {
    typealias ActorSystem = ClusterSystem
    let state: PersistentState<[UInt8]>

    init(actorSystem: ClusterSystem, id: VirtualActorID) {
        self.actorSystem = actorSystem
        self.state = PersistentState(id: id, system: actorSystem, initial: [])
    }

    func onActivate() async throws { try await state.read() }
    func onDeactivate() async throws { try await state.write() }

    distributed func store(bytes count: Int) async throws {
        state.value = [UInt8](repeating: 7, count: count)
        try await state.write()
    }

    distributed func size() -> Int { state.value.count }

    distributed func sleep(milliseconds: Int) async throws {
        try await Task.sleep(for: .milliseconds(milliseconds))
    }
}

@Suite("Memory budget and actor metrics")
struct MemoryBudgetTests {
    static func settings(budget: Int?) -> ActorSettings {
        var settings = ActorSettings()
        settings.collectionQuantum = .seconds(3600)
        settings.idleTimeout = .seconds(10)
        settings.activationOverheadBytes = 1_000
        settings.memoryBudgetBytes = budget
        return settings
    }

    static func system(
        budget: Int?, store: any StateStore = MemoryStateStore(), clock: any LocalityClock = MonotonicClock(),
        metrics: TestMetrics? = nil
    ) throws -> ClusterSystem {
        let system: ClusterSystem
        if let metrics {
            system = ClusterSystem(settings: settings(budget: budget), stateStore: store, clock: clock, metricsFactory: metrics)
        } else {
            system = ClusterSystem(settings: settings(budget: budget), stateStore: store, clock: clock)
        }
        try system.register(Blob.self, kind: "blob") { id, system in Blob(actorSystem: system, id: id) }
        return system
    }

    /// Encoded size of a `Blob` state of `count` bytes.
    static func encoded(_ count: Int) throws -> Int {
        try BinaryEncoder().encode([UInt8](repeating: 7, count: count)).count
    }

    static func isBusy(_ system: ClusterSystem, _ key: String) -> Bool {
        !(system.catalog.readyActivation(VirtualActorID(kind: "blob", key: key))?.mailbox.isIdle ?? true)
    }

    @Test("the estimate is the fixed overhead plus the encoded state, updated on write and on deactivation")
    func estimateFollowsState() async throws {
        let clock = ManualClock()
        let system = try Self.system(budget: nil, clock: clock)
        let a = try system.actor(Blob.self, id: "a")
        #expect(try await a.size() == 0)
        #expect(system.estimatedMemoryBytes == 1_000)
        try await a.store(bytes: 5_000)
        #expect(system.estimatedMemoryBytes == 1_000 + (try Self.encoded(5_000)))
        try await a.store(bytes: 100)
        #expect(system.estimatedMemoryBytes == 1_000 + (try Self.encoded(100)))
        clock.advance(by: .seconds(11))
        #expect(system.collectIdleActivations() == 1)
        #expect(system.estimatedMemoryBytes == 0)
        // Reactivation counts the state read back in onActivate.
        #expect(try await a.size() == 100)
        #expect(system.estimatedMemoryBytes == 1_000 + (try Self.encoded(100)))
        await system.shutdown()
    }

    @Test("over the budget, the least recently used idle activations go first, never a busy one")
    func budgetEvictsIdleFirst() async throws {
        let store = MemoryStateStore()
        let system = try Self.system(budget: 3_500, store: store)
        let a = try system.actor(Blob.self, id: "a")
        let b = try system.actor(Blob.self, id: "b")
        let c = try system.actor(Blob.self, id: "c")
        try await a.store(bytes: 10)
        try await b.store(bytes: 10)
        try await c.store(bytes: 10)
        #expect(system.activationCount == 3)
        // a goes busy, then b and c are used: a is the least recently used, and mid-turn
        // when d arrives.
        let busy = Task { try await a.sleep(milliseconds: 300) }
        #expect(await Fixture.eventually { Self.isBusy(system, "a") })
        #expect(try await b.size() == 10)
        #expect(try await c.size() == 10)
        try await system.actor(Blob.self, id: "d").store(bytes: 10)
        #expect(Set(system.activeIDs.map(\.key)) == ["a", "c", "d"])
        #expect(system.catalogStats.memoryEvictions == 1)
        #expect(system.catalogStats.evictions == 0)
        #expect(system.estimatedMemoryBytes <= 3_500)
        // The evicted b ran onDeactivate on its way out.
        #expect(await Fixture.eventually { (try? await store.read(StateKey(kind: "blob", id: "b")).value) != nil })
        try await busy.value
        #expect(try await b.size() == 10)
        await system.shutdown()
    }

    @Test("state growing past the budget evicts idle activations, not the one writing")
    func growthEvictsIdle() async throws {
        let system = try Self.system(budget: 10_000)
        for key in ["a", "b", "c", "d"] {
            try await system.actor(Blob.self, id: key).store(bytes: 100)
        }
        #expect(system.activationCount == 4)
        // d grows to about 7,200 encoded bytes: with all four that is over 10,000, and
        // still over without a; without a and b it fits. So a, then b go (LRU, idle).
        var count = 0
        while try Self.encoded(count) < 7_200, count < 100_000 { count += 50 }
        let small = try Self.encoded(100)
        #expect(3_000 + 2 * small + (try Self.encoded(count)) > 10_000)
        #expect(2_000 + small + (try Self.encoded(count)) <= 10_000)
        try await system.actor(Blob.self, id: "d").store(bytes: count)
        #expect(Set(system.activeIDs.map(\.key)) == ["c", "d"])
        #expect(system.catalogStats.memoryEvictions == 2)
        #expect(system.estimatedMemoryBytes <= 10_000)
        await system.shutdown()
    }

    @Test("when nothing idle can go, a new activation over the budget is refused with overloaded")
    func budgetAllBusy() async throws {
        let system = try Self.system(budget: 1_500)
        let a = try system.actor(Blob.self, id: "a")
        #expect(try await a.size() == 0)
        let busy = Task { try await a.sleep(milliseconds: 300) }
        #expect(await Fixture.eventually { Self.isBusy(system, "a") })
        do {
            _ = try await system.actor(Blob.self, id: "b").size()
            Issue.record("an activation over the budget was allowed while every activation was busy")
        } catch let error as LocalityError {
            #expect(error.code == .overloaded)
        }
        #expect(system.catalogStats.refusedAtBudget == 1)
        try await busy.value
        #expect(try await system.actor(Blob.self, id: "b").size() == 0)
        #expect(Set(system.activeIDs.map(\.key)) == ["b"])
        await system.shutdown()
    }

    @Test("metrics: live activations, activations, deactivations and evictions by reason, memory, mailbox depth, call timer")
    func metrics() async throws {
        let metrics = TestMetrics()
        let clock = ManualClock()
        let system = try Self.system(budget: 2_500, clock: clock, metrics: metrics)
        let a = try system.actor(Blob.self, id: "a")
        let b = try system.actor(Blob.self, id: "b")
        try await a.store(bytes: 10)
        try await b.store(bytes: 10)
        #expect(try metrics.expectGauge("locality_actor_activations").lastValue == 2)
        #expect(try metrics.expectCounter("locality_actor_activations_total").totalValue == 2)
        let memory = try metrics.expectGauge("locality_actor_memory_bytes").lastValue ?? 0
        #expect(memory == Double(system.estimatedMemoryBytes))
        #expect(memory > 2_000)

        // A third activation does not fit: a (least recently used, idle) is evicted.
        try await system.actor(Blob.self, id: "c").store(bytes: 10)
        #expect(try metrics.expectCounter("locality_actor_evictions_total", [("reason", "memory")]).totalValue == 1)
        #expect(try metrics.expectCounter("locality_actor_deactivations_total", [("reason", "evicted")]).totalValue == 1)

        // Idle collection.
        clock.advance(by: .seconds(11))
        #expect(system.collectIdleActivations() == 2)
        #expect(try metrics.expectCounter("locality_actor_deactivations_total", [("reason", "idle")]).totalValue == 2)
        #expect(try metrics.expectGauge("locality_actor_activations").lastValue == 0)
        #expect(try metrics.expectGauge("locality_actor_memory_bytes").lastValue == 0)

        // Mailbox depth: two calls wait behind a sleeping one, then drain.
        let d = try system.actor(Blob.self, id: "d")
        let first = Task { try await d.sleep(milliseconds: 300) }
        #expect(await Fixture.eventually { Self.isBusy(system, "d") })
        let waiting = (0..<2).map { _ in Task { try await d.size() } }
        #expect(await Fixture.eventually { (try? metrics.expectGauge("locality_actor_mailbox_depth").lastValue) == 2 })
        try await first.value
        for call in waiting { _ = try await call.value }
        #expect(try metrics.expectGauge("locality_actor_mailbox_depth").lastValue == 0)

        // Every local call is timed.
        let local = try metrics.expectTimer("locality_actor_call_duration_seconds", [("location", "local")])
        #expect(local.values.count == 6)

        await system.shutdown()
        #expect(try metrics.expectCounter("locality_actor_deactivations_total", [("reason", "shutdown")]).totalValue >= 1)
    }
}
