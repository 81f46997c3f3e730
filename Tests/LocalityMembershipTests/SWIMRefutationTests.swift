import LocalityCore
import Testing

@testable import LocalityMembership

/// SWIM §4.2 refutation and Lifeguard §IV.A's health penalty for refuting.
@Suite struct SWIMRefutationTests {
    /// The self-update carried by the next datagrams (the refutation gossip).
    func gossipedSelf(_ core: inout SWIMCore) -> MemberState? {
        let out = core.receive(SWIMFixture.envelope(from: 1, .ping(sequence: 1, target: SWIMFixture.id(0))), now: .zero)
        return out.sent.first?.envelope.gossip.first { $0.state.id == SWIMFixture.id(0) }?.state
    }

    @Test(arguments: [MemberStatus.suspect, .dead])
    func accusationAboutSelfRaisesIncarnationAndGossipsAlive(_ status: MemberStatus) {
        var core = SWIMFixture.core(peers: 3)
        _ = core.receive(
            SWIMFixture.envelope(from: 1, .gossip, gossip: [SWIMFixture.update(0, incarnation: 0, status: status, from: 1)]),
            now: .zero)
        #expect(core.incarnation == 1)
        #expect(core.localHealth == 1)
        let refutation = gossipedSelf(&core)
        #expect(refutation?.status == .alive)
        #expect(refutation?.incarnation == 1)
    }

    @Test func accusationAtHigherIncarnationIsOutbid() {
        var core = SWIMFixture.core(peers: 3)
        _ = core.receive(
            SWIMFixture.envelope(from: 1, .gossip, gossip: [SWIMFixture.update(0, incarnation: 7, status: .suspect, from: 1)]),
            now: .zero)
        #expect(core.incarnation == 8)
    }

    @Test func staleAccusationIsIgnored() {
        var core = SWIMFixture.core(peers: 3)
        _ = core.receive(
            SWIMFixture.envelope(from: 1, .gossip, gossip: [SWIMFixture.update(0, incarnation: 4, status: .suspect, from: 1)]),
            now: .zero)
        #expect(core.incarnation == 5)
        _ = core.receive(
            SWIMFixture.envelope(from: 2, .gossip, gossip: [SWIMFixture.update(0, incarnation: 4, status: .dead, from: 2)]),
            now: .zero)
        #expect(core.incarnation == 5)
        #expect(core.localHealth == 1)
    }

    @Test func impostorWithOurIdAndHigherIncarnationIsRefuted() {
        var core = SWIMFixture.core(peers: 3)
        _ = core.receive(
            SWIMFixture.envelope(from: 1, .gossip, gossip: [SWIMFixture.update(0, incarnation: 3, status: .alive, from: 1)]),
            now: .zero)
        #expect(core.incarnation == 4)
        #expect(gossipedSelf(&core)?.incarnation == 4)
    }

    @Test func aliveAboutSelfAtOurIncarnationNeedsNoRefutation() {
        var core = SWIMFixture.core(peers: 3)
        _ = core.receive(
            SWIMFixture.envelope(from: 1, .gossip, gossip: [SWIMFixture.update(0, incarnation: 0, status: .alive, from: 1)]),
            now: .zero)
        #expect(core.incarnation == 0)
        #expect(core.localHealth == 0)
    }

    @Test func refutationRidesOnTheAckToTheSuspectingProber() {
        var core = SWIMFixture.core(peers: 3)
        // Buddy system: the prober piggy-backs our suspicion on its ping.
        let ping = SWIMFixture.envelope(
            from: 2, .ping(sequence: 42, target: SWIMFixture.id(0)),
            gossip: [SWIMFixture.update(0, incarnation: 0, status: .suspect, from: 2)])
        let out = core.receive(ping, now: .zero)
        let ack = out.sent.first
        #expect(ack?.envelope.message == .ack(sequence: 42, target: SWIMFixture.id(0)))
        #expect(ack?.envelope.gossip.contains { $0.state.id == SWIMFixture.id(0) && $0.state.incarnation == 1 } == true)
    }

    @Test func leftMemberDoesNotRefute() {
        var core = SWIMFixture.core(peers: 3)
        _ = core.leave(now: .zero)
        _ = core.receive(
            SWIMFixture.envelope(from: 1, .gossip, gossip: [SWIMFixture.update(0, incarnation: 0, status: .dead, from: 1)]),
            now: .zero)
        #expect(core.incarnation == 0)
        #expect(core.members.first?.status == .left)
    }
}

/// Our stale-gossip correction: an old accusation is answered with the newer state.
@Suite struct StaleGossipCorrectionTests {
    @Test func staleSuspicionOfARefutedMemberIsCorrectedAtItsSender() {
        var core = SWIMFixture.core(peers: 4)
        _ = core.receive(SWIMFixture.envelope(from: 1, .gossip, gossip: [SWIMFixture.update(2, incarnation: 3, status: .alive, from: 2)]), now: .zero)
        let out = core.receive(SWIMFixture.envelope(from: 4, .gossip, gossip: [SWIMFixture.update(2, incarnation: 1, status: .suspect, from: 4)]), now: .zero)
        let reply = out.sent.first
        #expect(reply?.to == SWIMFixture.address(4))
        #expect(reply?.envelope.gossip.map(\.state) == [SWIMFixture.state(2, incarnation: 3)])
        #expect(core.member(SWIMFixture.id(2))?.status == .alive)
    }

    @Test func staleSuspicionOfOurselvesIsAnsweredWithoutANewIncarnation() {
        var core = SWIMFixture.core(peers: 4)
        _ = core.receive(SWIMFixture.envelope(from: 1, .gossip, gossip: [SWIMFixture.update(0, incarnation: 0, status: .suspect, from: 1)]), now: .zero)
        #expect(core.incarnation == 1)
        let out = core.receive(SWIMFixture.envelope(from: 3, .gossip, gossip: [SWIMFixture.update(0, incarnation: 0, status: .suspect, from: 1)]), now: .zero)
        #expect(core.incarnation == 1)
        #expect(out.sent.first?.to == SWIMFixture.address(3))
        #expect(out.sent.first?.envelope.gossip.first?.state.incarnation == 1)
    }

    @Test func currentGossipTriggersNoCorrection() {
        var core = SWIMFixture.core(peers: 4)
        let out = core.receive(SWIMFixture.envelope(from: 4, .gossip, gossip: [SWIMFixture.update(2, incarnation: 0, status: .suspect, from: 4)]), now: .zero)
        #expect(out.sent.isEmpty)
    }
}
