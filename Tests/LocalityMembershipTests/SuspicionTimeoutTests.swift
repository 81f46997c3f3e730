import LocalityCore
import Testing

@testable import LocalityMembership

/// Lifeguard §IV.B dynamic suspicion timeout (memberlist suspicion.go).
@Suite struct SuspicionTimeoutTests {
    func settings(mult: Double = 4, maxMult: Double = 6) -> SWIMSettings {
        var settings = SWIMSettings()
        settings.suspicionMult = mult
        settings.suspicionMaxTimeoutMult = maxMult
        settings.suspicionConfirmations = nil
        settings.suspicionFloor = .zero
        return settings
    }

    @Test func minimumFollowsLog10OfClusterSize() {
        // memberlist: 4 × log10(10) × 1 s = 4 s at 10 members; 8 s at 100; 12 s at 1000.
        #expect(SuspicionTimeout(memberCount: 10, settings: settings()).minimum == .seconds(4))
        #expect(SuspicionTimeout(memberCount: 100, settings: settings()).minimum == .seconds(8))
        #expect(SuspicionTimeout(memberCount: 1000, settings: settings()).minimum == .seconds(12))
        // Below 10 members the log10 factor is clamped to 1.
        #expect(SuspicionTimeout(memberCount: 3, settings: settings()).minimum == .seconds(4))
        #expect(SuspicionTimeout(memberCount: 10, settings: settings()).maximum == .seconds(24))
    }

    @Test func timeoutFallsLogarithmicallyWithConfirmations() {
        let timeout = SuspicionTimeout(minimum: .seconds(2), maximum: .seconds(30), expectedConfirmations: 3)
        #expect(timeout.timeout(confirmations: 0) == .seconds(30))
        // 30 − 28 · log(2)/log(4) = 16 s.
        #expect(timeout.timeout(confirmations: 1) == .seconds(16))
        // 30 − 28 · log(3)/log(4) = 7.81… s, truncated to milliseconds.
        #expect(timeout.timeout(confirmations: 2) == .milliseconds(7810))
        #expect(timeout.timeout(confirmations: 3) == .seconds(2))
        #expect(timeout.timeout(confirmations: 10) == .seconds(2))
    }

    @Test func floorBoundsTheMinimumForSmallClusters() {
        var floored = settings(mult: 1)
        floored.suspicionFloor = .seconds(3)
        #expect(SuspicionTimeout(memberCount: 10, settings: floored).minimum == .seconds(3))
        #expect(SuspicionTimeout(memberCount: 10_000, settings: floored).minimum == .seconds(4))
    }

    @Test func withoutExpectedConfirmationsTheMinimumAppliesAtOnce() {
        let timeout = SuspicionTimeout(minimum: .seconds(5), maximum: .seconds(30), expectedConfirmations: 0)
        #expect(timeout.timeout(confirmations: 0) == .seconds(5))
    }

    @Test func smallClustersExpectNoConfirmations() {
        // memberlist: k = SuspicionMult − 2, or 0 when fewer than k + 2 members.
        #expect(SuspicionTimeout(memberCount: 3, settings: settings()).expectedConfirmations == 0)
        #expect(SuspicionTimeout(memberCount: 4, settings: settings()).expectedConfirmations == 2)
    }

    @Test func suspicionCountsDistinctOriginsOnlyUpToK() {
        let bounds = SuspicionTimeout(minimum: .seconds(2), maximum: .seconds(12), expectedConfirmations: 2)
        var suspicion = Suspicion(incarnation: 0, from: SWIMFixture.id(1), startedAt: .zero, bounds: bounds)
        let counted = [1, 2, 2, 3, 4].map { suspicion.confirm(from: SWIMFixture.id($0)) }
        #expect(counted == [false, true, false, true, false])
        #expect(suspicion.deadline == Timestamp.zero + .seconds(2))
    }

    @Test func unconfirmedSuspicionRunsToMaximumAndConfirmedExpiresAtMinimum() {
        // N = 10: min = 1 × log10(10) × 1 s = 1 s, max = 3 s, K = 2.
        var s = settings(mult: 1, maxMult: 3)
        s.suspicionConfirmations = 2
        var core = SWIMFixture.core(peers: 9, settings: s)
        let start = Timestamp.zero + .milliseconds(1)
        let member = SWIMFixture.id(5)
        _ = core.receive(SWIMFixture.envelope(from: 1, .gossip, gossip: [SWIMFixture.update(5, status: .suspect, from: 1)]), now: start)
        #expect(core.suspicions[core.table.slot(of: member)!]?.deadline == start + .seconds(3))
        let confirmations = [SWIMFixture.update(5, status: .suspect, from: 2), SWIMFixture.update(5, status: .suspect, from: 3)]
        _ = core.receive(SWIMFixture.envelope(from: 2, .gossip, gossip: confirmations), now: start)
        #expect(core.suspicions[core.table.slot(of: member)!]?.deadline == start + .seconds(1))
        let deadAt = SWIMFixture.runUntil(&core) { out, _ in out.statuses(of: member).contains(.dead) }?.0
        #expect(deadAt == start + .seconds(1))
    }
}
