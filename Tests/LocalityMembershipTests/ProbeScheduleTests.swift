import LocalityCore
import Testing

@testable import LocalityMembership

/// The rotating probe schedule: every member probed once per period when views agree.
@Suite struct ProbeScheduleTests {
    /// `members` cores with the same view, each ticked alone (pings acked at once) for
    /// `epochs` protocol periods. Returns, per epoch, the targets pinged and by whom.
    func probes(members: Int, epochs: Int64) -> [Int64: [(prober: Int, target: Int)]] {
        var result: [Int64: [(prober: Int, target: Int)]] = [:]
        let end = Timestamp.zero + .seconds(epochs)
        for i in 0..<members {
            var core = SWIMFixture.core(member: i, knowing: (0..<members).filter { $0 != i }, seed: UInt64(7 * i + 1))
            var ticks = 0
            while core.nextDeadline < end, ticks < 100_000 {
                ticks += 1
                let now = core.nextDeadline
                for sent in core.tick(now: now).sent {
                    guard case let .ping(sequence, target) = sent.envelope.message, sent.via == .datagram else { continue }
                    let index = Int(target.name.dropFirst())!
                    result[now.nanoseconds / 1_000_000_000, default: []].append((i, index))
                    _ = core.receive(SWIMFixture.envelope(from: index, .ack(sequence: sequence, target: target)), now: now)
                }
            }
        }
        return result
    }

    @Test(arguments: [2, 5, 16, 33])
    func everyMemberIsProbedByExactlyOneOtherInEveryPeriod(members: Int) {
        let epochs = Int64(2 * members + 3)
        let byEpoch = probes(members: members, epochs: epochs)
        // Epoch 0 is partial (each member's first slot lies in epoch 0 or 1).
        for epoch in 1..<epochs {
            let targets = byEpoch[epoch, default: []].map(\.target)
            #expect(targets.sorted() == Array(0..<members), "epoch \(epoch)")
            #expect(byEpoch[epoch, default: []].allSatisfy { $0.prober != $0.target })
        }
    }

    @Test(arguments: [5, 16])
    func eachMemberProbesEveryOtherWithinNMinusOnePeriods(members: Int) {
        let byEpoch = probes(members: members, epochs: Int64(members + 2))
        for prober in 0..<members {
            let window = (1..<Int64(members)).flatMap { byEpoch[$0, default: []] }.filter { $0.prober == prober }
            #expect(Set(window.map(\.target)) == Set(0..<members).subtracting([prober]))
        }
    }

    @Test func epochsAreFloorDivisionsShiftedByClockOffsetAndPhase() {
        let schedule = ProbeSchedule(interval: .seconds(1), clockOffset: .milliseconds(-2_500), phase: .milliseconds(200), selfKey: 0)
        // now 0 → wall −2.5 s, minus the phase → −2.7 s → epoch −3.
        #expect(schedule.epoch(at: .zero) == -3)
        let next = schedule.nextSlot(after: .zero)
        #expect(schedule.epoch(at: next) == -2)
        #expect(next > .zero && next - Timestamp.zero <= .seconds(1))
        // The slot itself belongs to its epoch; a tick just before it to the previous one.
        #expect(schedule.epoch(at: next - .nanoseconds(1)) == -3)
        #expect(schedule.nextSlot(after: next) == next + .seconds(1))
    }

    @Test func ringFollowsJoinsAndDeathsInTheSameOrderOnEveryMember() {
        var a = SWIMFixture.core(peers: 6)
        var b = SWIMFixture.core(member: 3, knowing: [0, 1, 2, 4, 5, 6], seed: 9)
        func order(_ core: SWIMCore) -> [NodeID] { core.table.ring.slots.map { core.table[$0].id } }
        // a (member 0) and b (member 3) each see the others: the rings minus each other agree.
        #expect(order(a).filter { $0 != SWIMFixture.id(3) } == order(b).filter { $0 != SWIMFixture.id(0) })
        let dead = [SWIMFixture.update(5, incarnation: 0, status: .dead, from: 1)]
        let joined = [SWIMFixture.update(7, status: .alive, from: 1)]
        for core in [0, 1] {
            var c = core == 0 ? a : b
            _ = c.receive(SWIMFixture.envelope(from: 1, .gossip, gossip: dead + joined), now: .zero)
            if core == 0 { a = c } else { b = c }
        }
        #expect(!order(a).contains(SWIMFixture.id(5)) && order(a).contains(SWIMFixture.id(7)))
        #expect(order(a).filter { $0 != SWIMFixture.id(3) } == order(b).filter { $0 != SWIMFixture.id(0) })
        let keys = order(a).map(MemberTable.scheduleKey)
        #expect(keys == keys.sorted())
    }
}
