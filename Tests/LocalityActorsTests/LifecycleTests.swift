import Foundation
import LocalityActors
import LocalityCore
import LocalityStorage
import Testing
@testable import LocalityActors

@Suite("Activation lifecycle")
struct LifecycleTests {
    static func settings(idle: Duration = .seconds(10), cap: Int = 1_000_000) -> ActorSettings {
        var settings = ActorSettings()
        settings.idleTimeout = idle
        settings.maxActivations = cap
        settings.collectionQuantum = .seconds(3600)
        return settings
    }

    @Test("state survives idle deactivation (onDeactivate flushes, onActivate reloads)")
    func stateSurvivesIdleDeactivation() async throws {
        let clock = ManualClock()
        let store = MemoryStateStore()
        let system = try Fixture.system(settings: Self.settings(), store: store, clock: clock)
        let counter = try system.actor(Counter.self, id: "c1")
        for _ in 0..<5 { _ = try await counter.add(3) }
        // `add` does not write: only the flush on deactivation can put 15 in the store.
        #expect(try await store.read(StateKey(kind: "counter", id: "c1")).value == nil)

        clock.advance(by: .seconds(9))
        #expect(system.collectIdleActivations() == 0)
        clock.advance(by: .seconds(2))
        #expect(system.collectIdleActivations() == 1)
        #expect(await Fixture.eventually { system.activationCount == 0 && system.activeIDs.isEmpty })
        #expect(await Fixture.eventually { (try? await store.read(StateKey(kind: "counter", id: "c1")).value) != nil })
        let stored = try await store.read(StateKey(kind: "counter", id: "c1"))
        #expect(try BinaryDecoder().decode(Int.self, from: stored.value!) == 15)

        #expect(try await counter.total() == 15)
        #expect(system.catalogStats.activations == 2)
        #expect(system.catalogStats.idleDeactivations == 1)
        await system.shutdown()
    }

    @Test("state survives idle deactivation on SQLite")
    func stateSurvivesOnSQLite() async throws {
        let directory = NSTemporaryDirectory() + "locality-actors-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/state.sqlite"
        let clock = ManualClock()
        let store = try await SQLiteStateStore.open(path: path)
        let system = try Fixture.system(settings: Self.settings(), store: store, clock: clock)
        for index in 0..<20 {
            let counter = try system.actor(Counter.self, id: "s\(index)")
            _ = try await counter.increment(by: index)
            _ = try await counter.add(1)
        }
        clock.advance(by: .seconds(11))
        #expect(system.collectIdleActivations() == 20)
        #expect(await Fixture.eventually { system.activationCount == 0 && system.activeIDs.isEmpty })
        await system.shutdown()
        try await store.close()

        let reopened = try await SQLiteStateStore.open(path: path)
        let second = try Fixture.system(settings: Self.settings(), store: reopened, clock: clock)
        for index in 0..<20 {
            #expect(try await second.actor(Counter.self, id: "s\(index)").total() == index + 1)
        }
        await second.shutdown()
        try await reopened.close()
    }

    @Test("the cap evicts the least recently used idle activation, never a busy one")
    func capEvictsIdleFirst() async throws {
        let store = MemoryStateStore()
        let system = try Fixture.system(settings: Self.settings(cap: 3), store: store)
        let a = try system.actor(Counter.self, id: "a")
        let b = try system.actor(Counter.self, id: "b")
        let c = try system.actor(Counter.self, id: "c")
        _ = try await a.add(1)
        _ = try await b.add(2)
        _ = try await c.add(3)
        // a is the least recently used, but it is mid-turn when d arrives.
        let busy = Task { try await a.sleep(milliseconds: 300) }
        let idA = VirtualActorID(kind: "counter", key: "a")
        #expect(await Fixture.eventually { !(system.catalog.readyActivation(idA)?.mailbox.isIdle ?? true) })
        _ = try await c.add(0)
        _ = try await system.actor(Counter.self, id: "d").add(4)
        let active = Set(system.activeIDs.map(\.key))
        #expect(active == ["a", "c", "d"])
        #expect(system.catalogStats.evictions == 1)
        // The evicted b flushed on its way out.
        #expect(await Fixture.eventually { (try? await store.read(StateKey(kind: "counter", id: "b")).value) != nil })
        try await busy.value
        #expect(try await b.total() == 2)
        await system.shutdown()
    }

    @Test("when every activation is busy the cap refuses with overloaded")
    func capAllBusy() async throws {
        let system = try Fixture.system(settings: Self.settings(cap: 1))
        let a = try system.actor(Counter.self, id: "a")
        _ = try await a.add(1)
        let busy = Task { try await a.sleep(milliseconds: 300) }
        let idA = VirtualActorID(kind: "counter", key: "a")
        #expect(await Fixture.eventually { !(system.catalog.readyActivation(idA)?.mailbox.isIdle ?? true) })
        do {
            _ = try await system.actor(Counter.self, id: "b").add(1)
            Issue.record("activation past the cap was allowed while all were busy")
        } catch let error as LocalityError {
            #expect(error.code == .overloaded)
        }
        try await busy.value
        #expect(try await system.actor(Counter.self, id: "b").add(1) == 1)
        await system.shutdown()
    }

    @Test("a failed load leaves nothing behind and returns a clear error; a good key still activates")
    func failedLoad() async throws {
        let system = try Fixture.system()
        let broken = try system.actor(Fragile.self, id: "fail-1")
        // Concurrent callers all wait for the same load and all get its error.
        let outcomes = await withTaskGroup(of: LocalityError?.self) { group in
            for _ in 0..<5 {
                group.addTask {
                    do {
                        _ = try await broken.ping()
                        return nil
                    } catch {
                        return error as? LocalityError
                    }
                }
            }
            return await group.reduce(into: [LocalityError?]()) { $0.append($1) }
        }
        #expect(outcomes.count == 5)
        #expect(outcomes.allSatisfy { $0?.message == "storage for fail-1 is broken" })
        #expect(system.activationCount == 0)
        #expect(system.catalogStats.failedActivations == 1)
        #expect(try await system.actor(Fragile.self, id: "fine").ping() == "pong fine")
        await system.shutdown()
    }

    @Test("a stale etag raises conflict and drops that activation; a retry reloads")
    func conflictDeactivates() async throws {
        let store = MemoryStateStore()
        let first = try Fixture.system(store: store, node: NodeID(name: "n1", uid: 1))
        let second = try Fixture.system(store: store, node: NodeID(name: "n2", uid: 2))
        // Duplicate activation of one actor on two nodes (as after a partition).
        #expect(try await first.actor(Counter.self, id: "dup").increment(by: 1) == 1)
        #expect(try await second.actor(Counter.self, id: "dup").increment(by: 10) == 11)
        do {
            _ = try await first.actor(Counter.self, id: "dup").increment(by: 100)
            Issue.record("stale write succeeded")
        } catch let error as LocalityError {
            #expect(error.code == .conflict)
        }
        #expect(first.catalogStats.staleDiscards == 1)
        #expect(first.activationCount == 0)
        // The retry activates afresh from the store.
        #expect(try await first.actor(Counter.self, id: "dup").increment(by: 100) == 111)
        await first.shutdown()
        await second.shutdown()
    }

    @Test("timers tick as turns; a keep-alive timer keeps the activation from idle collection")
    func timers() async throws {
        let clock = ManualClock()
        let system = try Fixture.system(settings: Self.settings(), clock: clock)
        let plain = try system.actor(Ticker.self, id: "plain")
        let alive = try system.actor(Ticker.self, id: "alive")
        _ = try await plain.tickCount()
        _ = try await alive.tickCount()
        // Calls and ticks interleave but never overlap.
        for _ in 0..<5 { try await plain.busy(milliseconds: 5) }
        #expect(await Fixture.eventually { ((try? await plain.tickCount()) ?? 0) >= 3 })
        #expect(try await plain.mostConcurrent() == 1)

        clock.advance(by: .seconds(11))
        let before = try await alive.tickCount()
        #expect(await Fixture.eventually { ((try? await alive.tickCount()) ?? 0) > before + 1 })
        // The calls above touched both; move past the timeout again: only a keep-alive
        // tick (no call) can make "alive" recent again.
        clock.advance(by: .seconds(11))
        #expect(await Fixture.eventually {
            system.catalog.readyActivation(VirtualActorID(kind: "ticker", key: "alive")).map { clock.now() - $0.lastUsed < .seconds(1) } ?? false
        })
        // A tick in progress holds the turn, and a collection skips a busy activation:
        // collect until "plain" goes (the collector would retry at its next quantum).
        #expect(await Fixture.eventually {
            system.collectIdleActivations()
            return system.activeIDs.map(\.key) == ["alive"]
        })
        #expect(system.catalogStats.idleDeactivations == 1)
        await system.shutdown()
    }
}
