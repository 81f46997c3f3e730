import LocalityCore
import Testing

@testable import LocalityMembership

/// Gossip rounds (SWIM §4.1; memberlist state.go gossip): the ticker's phase and the
/// choice of targets.
@Suite struct SWIMGossipRoundTests {
    @Test func anUpdateAfterAQuietSpellIsGossipedOnTheTickerPhaseNotTakenForAStall() throws {
        var core = SWIMFixture.core(peers: 10, settings: SWIMFixture.quietSettings())
        let quietUntil = Timestamp.zero + .seconds(20)
        try #require(core.nextDeadline > quietUntil)
        // A join arrives after 20 s with nothing to gossip.
        let join = GossipUpdate(state: SWIMFixture.state(11), origin: SWIMFixture.id(1))
        _ = core.receive(SWIMFixture.envelope(from: 1, .gossip, gossip: [join]), now: quietUntil)
        let deadline = core.nextDeadline
        #expect(deadline >= quietUntil)
        #expect(deadline <= quietUntil + core.settings.gossipInterval)
        // The shell ticks at the deadline: a gossip round, not a stall.
        let out = core.tick(now: max(deadline, quietUntil))
        #expect(out.sent.count == core.settings.gossipNodes)
        #expect(out.sent.allSatisfy { $0.envelope.gossip.contains(join) })
        #expect(core.stallsDetected == 0)
        #expect(core.localHealth == 0)
    }

    @Test func aRealStallIsStillDetected() {
        var core = SWIMFixture.core(peers: 10, settings: SWIMFixture.quietSettings())
        let join = GossipUpdate(state: SWIMFixture.state(11), origin: SWIMFixture.id(1))
        _ = core.receive(SWIMFixture.envelope(from: 1, .gossip, gossip: [join]), now: .zero + .seconds(1))
        // The gossip round was due within 200 ms; the member only runs 5 s later.
        let late = core.nextDeadline + .seconds(5)
        #expect(core.tick(now: late).isEmpty)
        #expect(core.stallsDetected == 1)
        #expect(core.localHealth == 1)
    }

    @Test func roundsReachRecentlyDeadMembersButNeitherLongDeadNorLeftOnes() {
        var settings = SWIMFixture.quietSettings()
        settings.reapAfter = .seconds(120)
        settings.gossipToTheDeadTime = .seconds(30)
        var core = SWIMFixture.core(peers: 10, settings: settings)
        let dead = SWIMFixture.update(3, status: .dead, from: 1)
        let left = SWIMFixture.update(4, status: .left, from: 4)
        var toDeadWithin30s = 0
        var toDeadAfter = 0
        var toLeft = 0
        var rounds = 0
        for second in 1...60 {
            // A new member every second keeps the broadcast queue busy.
            let join = GossipUpdate(state: SWIMFixture.state(100 + second), origin: SWIMFixture.id(1))
            let now = Timestamp.zero + .seconds(second)
            let gossip = second == 1 ? [dead, left, join] : [join]
            _ = core.receive(SWIMFixture.envelope(from: 1, .gossip, gossip: gossip), now: now)
            while core.nextDeadline < now + .seconds(1) {
                let tickAt = max(core.nextDeadline, now)
                let sent = core.tick(now: tickAt).sent.filter { $0.envelope.message == .gossip }
                if !sent.isEmpty { rounds += 1 }
                for message in sent {
                    if message.to == SWIMFixture.address(3) {
                        if tickAt < .zero + .seconds(31) { toDeadWithin30s += 1 } else { toDeadAfter += 1 }
                    }
                    if message.to == SWIMFixture.address(4) { toLeft += 1 }
                }
            }
        }
        #expect(rounds > 100)
        #expect(toDeadWithin30s > 0)
        #expect(toDeadAfter == 0)
        #expect(toLeft == 0)
        #expect(core.stallsDetected == 0)
    }
}
