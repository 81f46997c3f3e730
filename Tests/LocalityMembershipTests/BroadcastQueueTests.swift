import LocalityCore
import Testing

@testable import LocalityMembership

/// SWIM §4.1 piggy-back queue (memberlist TransmitLimitedQueue).
@Suite struct BroadcastQueueTests {
    @Test func eachUpdateIsSentExactlyRetransmitLimitTimes() {
        var queue = BroadcastQueue(capacity: 100)
        queue.enqueue(SWIMFixture.update(1, status: .suspect, from: 2))
        var sent = 0
        for _ in 0..<10 { sent += queue.take(budget: 1400, retransmitLimit: 3).count }
        #expect(sent == 3)
        #expect(queue.isEmpty)
    }

    @Test func newerUpdateAboutTheSameMemberReplacesTheOlder() {
        var queue = BroadcastQueue(capacity: 100)
        queue.enqueue(SWIMFixture.update(1, incarnation: 1, status: .suspect, from: 2))
        _ = queue.take(budget: 1400, retransmitLimit: 5)
        queue.enqueue(SWIMFixture.update(1, incarnation: 2, status: .alive, from: 1))
        #expect(queue.count == 1)
        let taken = queue.take(budget: 1400, retransmitLimit: 5)
        #expect(taken.map(\.state.incarnation) == [2])
    }

    @Test func fewerSentFirstThenNewestFirst() {
        var queue = BroadcastQueue(capacity: 100)
        queue.enqueue(SWIMFixture.update(1, status: .alive, from: 1))
        let one = SWIMFixture.update(1, status: .alive, from: 1).encodedSize
        #expect(queue.take(budget: one, retransmitLimit: 5).map(\.state.id) == [SWIMFixture.id(1)])
        queue.enqueue(SWIMFixture.update(2, status: .alive, from: 2))
        queue.enqueue(SWIMFixture.update(3, status: .alive, from: 3))
        // 3 and 2 were never sent (newest first), 1 was sent once.
        #expect(queue.take(budget: one, retransmitLimit: 5).map(\.state.id) == [SWIMFixture.id(3)])
        #expect(queue.take(budget: one, retransmitLimit: 5).map(\.state.id) == [SWIMFixture.id(2)])
        // All three now have one transmission; the next round takes all of them before any gets a third.
        let round = (0..<3).flatMap { _ in queue.take(budget: one, retransmitLimit: 5).map(\.state.id) }
        #expect(Set(round) == Set([1, 2, 3].map(SWIMFixture.id)))
    }

    @Test func takeNeverExceedsTheBudget() {
        var random = SeededRandom(seed: 9)
        for _ in 0..<50 {
            var queue = BroadcastQueue(capacity: 1000)
            for i in 0..<200 {
                let metadata = [UInt8](repeating: 0, count: Int(random.next() % 300))
                queue.enqueue(GossipUpdate(state: SWIMFixture.state(i, metadata: metadata), origin: SWIMFixture.id(i)))
            }
            let budget = 200 + Int(random.next() % 1200)
            let taken = queue.take(budget: budget, retransmitLimit: 4)
            #expect(taken.reduce(0) { $0 + $1.encodedSize } <= budget)
            #expect(!taken.isEmpty || budget < 350)
        }
    }

    @Test func overCapacityShedsTheMostTransmitted() {
        var queue = BroadcastQueue(capacity: 2)
        queue.enqueue(SWIMFixture.update(1, status: .alive, from: 1))
        _ = queue.take(budget: 1400, retransmitLimit: 9)
        queue.enqueue(SWIMFixture.update(2, status: .alive, from: 2))
        queue.enqueue(SWIMFixture.update(3, status: .alive, from: 3))
        #expect(queue.count == 2)
        #expect(queue.pending(about: SWIMFixture.id(1)) == nil)
    }
}
