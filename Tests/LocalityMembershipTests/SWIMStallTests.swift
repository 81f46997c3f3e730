import LocalityCore
import Testing

@testable import LocalityMembership

/// Stall detection (our addition 2, docs/membership.md) must fire for real stalls only:
/// a deadline the core itself placed in the past is not a stall.
@Suite struct SWIMStallTests {
    @Test func confirmationsThatShortenASuspicionBelowItsAgeDeclareDeathAtOnceWithoutAStall() {
        var settings = SWIMFixture.quietSettings()
        // The minimum suspicion scales with the probe interval: keep it at the 3 s floor.
        settings.suspicionMult = 0
        var core = SWIMFixture.core(peers: 10, settings: settings)
        let accused = SWIMFixture.id(3)
        let start = Timestamp.zero + .seconds(1)
        _ = core.receive(
            SWIMFixture.envelope(from: 1, .gossip, gossip: [SWIMFixture.update(3, status: .suspect, from: 1)]),
            now: start)
        #expect(core.member(accused)?.status == .suspect)
        // 11 members: minimum 3 s (the floor), 18 s without confirmations. Run to t = 10 s.
        let later = Timestamp.zero + .seconds(10)
        while core.nextDeadline < later { _ = core.tick(now: core.nextDeadline) }
        #expect(core.member(accused)?.status == .suspect)
        // K = 3 confirmations arrive together: the timeout falls to 3 s, 6 s ago.
        let confirmations = [2, 4, 5].map { SWIMFixture.update(3, status: .suspect, from: $0) }
        _ = core.receive(SWIMFixture.envelope(from: 2, .gossip, gossip: confirmations), now: later)
        #expect(core.nextDeadline <= later)
        let out = core.tick(now: later)
        #expect(out.statuses(of: accused) == [.dead])
        #expect(core.stallsDetected == 0)
        #expect(core.localHealth == 0)
    }
}
