import LocalityActors
import LocalityCore
import Testing
@testable import LocalityActors

@Suite("Turns and mailbox")
struct TurnTests {
    @Test("one call at a time per activation, even across awaits")
    func oneTurnAtATime() async throws {
        let system = try Fixture.system()
        let overlap = try system.actor(Overlap.self, id: "o")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for number in 0..<20 {
                group.addTask { try await overlap.step(number, milliseconds: 2) }
            }
            try await group.waitForAll()
        }
        #expect(try await overlap.mostConcurrent() == 1)
        await system.shutdown()
    }

    @Test("calls from one caller keep their order")
    func callerOrder() async throws {
        let system = try Fixture.system()
        let overlap = try system.actor(Overlap.self, id: "ordered")
        for number in 0..<30 {
            try await overlap.step(number, milliseconds: 0)
        }
        #expect(try await overlap.arrivals() == Array(0..<30))
        await system.shutdown()
    }

    @Test("A→B→A in one call chain does not deadlock")
    func callChainReentrancy() async throws {
        let system = try Fixture.system()
        let a = try system.actor(Bouncer.self, id: "a")
        let hops = try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask { try await a.bounce(to: "b", remaining: 6) }
            group.addTask {
                try await Task.sleep(for: .seconds(5))
                throw LocalityError(.deadlineExceeded, "A→B→A deadlocked")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
        #expect(hops == 6)
        #expect(try await a.visitCount() == 4)
        #expect(try await system.actor(Bouncer.self, id: "b").visitCount() == 3)
        await system.shutdown()
    }

    @Test("a full mailbox refuses with overloaded at once")
    func mailboxBound() async throws {
        var settings = ActorSettings()
        settings.mailboxCapacity = 2
        let system = try Fixture.system(settings: settings)
        let counter = try system.actor(Counter.self, id: "busy")
        _ = try await counter.total()
        let holder = Task { try await counter.sleep(milliseconds: 400) }
        let id = VirtualActorID(kind: "counter", key: "busy")
        #expect(await Fixture.eventually { !(system.catalog.readyActivation(id)?.mailbox.isIdle ?? true) })
        let waiters = (0..<2).map { _ in Task { try await counter.total() } }
        #expect(await Fixture.eventually { system.catalog.readyActivation(id)?.mailbox.depth == 2 })
        do {
            _ = try await counter.total()
            Issue.record("a third waiting call was queued")
        } catch let error as LocalityError {
            #expect(error.code == .overloaded)
        }
        try await holder.value
        for waiter in waiters { #expect(try await waiter.value == 0) }
        await system.shutdown()
    }

    @Test("errors thrown by a method reach the caller unchanged")
    func errorsPropagate() async throws {
        let system = try Fixture.system()
        let fragile = try system.actor(Fragile.self, id: "ok")
        await #expect(throws: LocalityError(.conflict, "asked to fail")) { try await fragile.fail(code: "conflict") }
        #expect(try await fragile.ping() == "pong ok")
        await system.shutdown()
    }

    @Test("an unregistered kind is actor_not_found")
    func unknownKind() async throws {
        let system = try Fixture.system()
        #expect(throws: LocalityError.self) { try system.actor(Unregistered.self, id: "x") }
        do {
            _ = try system.actor(Unregistered.self, id: "x")
        } catch let error as LocalityError {
            #expect(error.code == .actorNotFound)
        }
        await system.shutdown()
    }

    @Test("a reference makes no activation; the first call does")
    func lazyActivation() async throws {
        let system = try Fixture.system()
        let counter = try system.actor(Counter.self, id: "lazy")
        #expect(system.activationCount == 0)
        #expect(try await counter.add(1) == 1)
        #expect(system.activeIDs == [VirtualActorID(kind: "counter", key: "lazy")])
        await system.shutdown()
    }
}
