import LocalityCore
import Synchronization
import Testing

/// The shared deadline timer: sleeps end after their duration, cancelled ones at once, and
/// the ticking task stops when nobody sleeps.
@Suite struct DeadlineTimerTests {
    struct Late: Error {}

    final class Box<Value: Sendable>: Sendable {
        let value: Mutex<Value>
        init(_ value: Value) { self.value = Mutex(value) }
    }

    @Test func aSleepEndsOnceItsDurationPassed() async throws {
        let timer = DeadlineTimer(tick: .milliseconds(5))
        let start = ContinuousClock.now
        try await timer.sleep(for: .milliseconds(30))
        let slept = ContinuousClock.now - start
        #expect(slept >= .milliseconds(30))
        #expect(timer.sleeping == 0)
    }

    @Test func cancellingASleepEndsItAtOnceWithCancellationError() async throws {
        let timer = DeadlineTimer(tick: .milliseconds(5))
        let task = Task { try await timer.sleep(for: .seconds(60)) }
        while timer.sleeping == 0 { await Task.yield() }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(timer.sleeping == 0)
        // A task cancelled before it sleeps does not sleep either.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await timer.sleep(for: .seconds(60))
        }
        await #expect(throws: CancellationError.self) { try await early.value }
    }

    @Test func manySleepsWakeInDeadlineOrder() async throws {
        let timer = DeadlineTimer(tick: .milliseconds(2))
        let order = Box<[Int]>([])
        await withTaskGroup(of: Void.self) { group in
            for index in [5, 1, 4, 2, 3] {
                group.addTask {
                    try? await timer.sleep(for: .milliseconds(20 * index))
                    order.value.withLock { $0.append(index) }
                }
            }
        }
        #expect(order.value.withLock { $0 } == [1, 2, 3, 4, 5])
    }

    @Test func withDeadlineReturnsTheValueOrThrowsOnTimeoutAndCancelsTheBody() async throws {
        #expect(try await withDeadline(.seconds(5), onTimeout: { Late() }) { 42 } == 42)
        let bodyCancelled = Box(false)
        await #expect(throws: Late.self) {
            try await withDeadline(.milliseconds(20), onTimeout: { Late() }) {
                do {
                    try await Task.sleep(for: .seconds(60))
                } catch {
                    bodyCancelled.value.withLock { $0 = true }
                    throw error
                }
            }
        }
        let wasCancelled = bodyCancelled.value.withLock { $0 }
        #expect(wasCancelled)
        // The body's own error comes through.
        await #expect(throws: Late.self) { try await withDeadline(.seconds(5), onTimeout: { CancellationError() }) { throw Late() } }
    }

    @Test func aDeadlineThatPassesCancelsTheBodyNeverTheCaller() async throws {
        await #expect(throws: Late.self) {
            try await withDeadline(.milliseconds(10), onTimeout: { Late() }) { try await Task.sleep(for: .seconds(60)) }
        }
        #expect(!Task.isCancelled)
        // The caller goes on: a later sleep in the same task is not cut short.
        try await Task.sleep(for: .milliseconds(1))
    }

    @Test func aCancelledCallerNeverGetsTheTimeoutAnswer() async throws {
        let task = Task {
            try await withDeadline(.milliseconds(40), onTimeout: { Late() }) {
                // A body slow to notice cancellation: it outlives the deadline.
                try? await Task.sleep(for: .seconds(60))
                let until = ContinuousClock.now + .milliseconds(120)
                while ContinuousClock.now < until { await Task.yield() }
                return 7
            }
        }
        try await Task.sleep(for: .milliseconds(5))
        task.cancel()
        let outcome = await task.result
        #expect((try? outcome.get()) == 7, "\(outcome)")
    }

    /// Deadlines passing while their bodies end on their own, thousands at once: each
    /// call answers its body's value or its timeout, never another error, never a crash
    /// (the timer cancels a body's task only while that body runs). The outcomes asserted
    /// do not depend on the machine's speed: a minute-long deadline over a body that
    /// returns at once, a millisecond deadline over a minute-long sleep, and in between
    /// calls whose body and deadline race (either answer is right).
    @Test func manyDeadlinesRacingTheirBodiesEachAnswerOnce() async throws {
        enum Kind { case fast, hung, racing }
        let kinds: [Kind] = (0..<2_000).map { [.fast, .hung, .racing][$0 % 3] }
        let outcomes = await withTaskGroup(of: (Int, Int).self) { group in
            for (index, kind) in kinds.enumerated() {
                group.addTask {
                    do {
                        let value = try await withDeadline(kind == .fast ? .seconds(60) : .milliseconds(1 + index % 7), onTimeout: { Late() }) {
                            switch kind {
                            case .fast: return 1
                            case .hung: try await Task.sleep(for: .seconds(60))
                            case .racing: try await Task.sleep(for: .microseconds(500 * (index % 20)))
                            }
                            return 1
                        }
                        return (index, value)
                    } catch is Late {
                        return (index, 0)
                    } catch {
                        return (index, -1)
                    }
                }
            }
            return await group.reduce(into: [Int: Int]()) { $0[$1.0] = $1.1 }
        }
        #expect(outcomes.count == 2_000)
        #expect(!outcomes.values.contains(-1), "\(outcomes.values.filter { $0 == -1 }.count) calls failed with neither value nor timeout")
        #expect(kinds.indices.filter { kinds[$0] == .fast }.allSatisfy { outcomes[$0] == 1 })
        #expect(kinds.indices.filter { kinds[$0] == .hung }.allSatisfy { outcomes[$0] == 0 })
    }

    @Test func aMovedDeadlineFiresAtItsNewTimeAndIsTheEnclosingOne() async throws {
        // Moved later: the body finishes before the new deadline although the first passed.
        // Limits far beyond any stall of a loaded test machine (a starved pool once delayed
        // the body by 38 s).
        let value = try await withDeadline(.seconds(600), onTimeout: { Late() }) { deadline in
            #expect(Deadline.enclosing === deadline)
            #expect(deadline.covers(.seconds(600)))
            #expect(deadline.covers(.seconds(660), slack: .zero))
            #expect(deadline.move(after: .milliseconds(20)))
            #expect(deadline.move(after: .seconds(300)))
            #expect(!deadline.covers(.seconds(1)))
            try await Task.sleep(for: .milliseconds(60))
            return 7
        }
        #expect(value == 7)
        // Moved earlier: it fires at the new time.
        await #expect(throws: Late.self) {
            try await withDeadline(.seconds(60), onTimeout: { Late() }) { deadline in
                deadline.move(after: .milliseconds(10))
                try await Task.sleep(for: .seconds(60))
            }
        }
        #expect(Deadline.enclosing == nil)
    }

    @Test func aFiredDeadlineCannotBeMovedAndCoversNothing() async throws {
        let fired = Box<Deadline?>(nil)
        await #expect(throws: Late.self) {
            try await withDeadline(.milliseconds(10), onTimeout: { Late() }) { deadline in
                fired.value.withLock { $0 = deadline }
                try await Task.sleep(for: .seconds(60))
            }
        }
        let deadline = try #require(fired.value.withLock { $0 })
        #expect(!deadline.move(after: .seconds(5)))
        #expect(!deadline.covers(.seconds(60)))
    }
}
