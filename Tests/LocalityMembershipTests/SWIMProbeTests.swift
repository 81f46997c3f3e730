import LocalityCore
import Testing

@testable import LocalityMembership

/// SWIM §3.1 probe cycle with Lifeguard §IV.A health and nacks.
@Suite struct SWIMProbeTests {
    /// Ticks until the core sends its first direct ping.
    func firstPing(_ core: inout SWIMCore) -> (Timestamp, SentMessage)? {
        guard let (now, out) = SWIMFixture.runUntil(&core, { out, _ in out.sent.contains { if case .ping = $0.envelope.message { true } else { false } } })
        else { return nil }
        return out.sent.first { if case .ping = $0.envelope.message { true } else { false } }.map { (now, $0) }
    }

    @Test func unansweredPingEscalatesToPingRequestsStreamPingThenSuspicion() throws {
        var settings = SWIMSettings()
        settings.indirectChecks = 3
        var core = SWIMFixture.core(peers: 5, settings: settings)
        let (sentAt, ping) = try #require(firstPing(&core))
        guard case let .ping(sequence, target) = ping.envelope.message else { Issue.record("not a ping"); return }
        #expect(ping.via == .datagram)
        #expect(core.probe?.indirectAt == sentAt + .milliseconds(500))

        let indirect = core.tick(now: sentAt + .milliseconds(500)).sent
        let requests = indirect.filter { if case .pingRequest = $0.envelope.message { true } else { false } }
        #expect(requests.count == 3)
        #expect(!requests.contains { $0.to == ping.to })
        #expect(requests.allSatisfy { $0.envelope.message == .pingRequest(sequence: sequence, target: target, targetAddress: ping.to, wantsNack: true) })
        #expect(indirect.contains { $0.via == .stream && $0.to == ping.to && $0.envelope.message == .ping(sequence: sequence, target: target) })

        let end = core.tick(now: sentAt + .seconds(1))
        #expect(end.statuses(of: target) == [.suspect])
        // No nack from any of the 3 helpers: +3 (memberlist probeNode).
        #expect(core.localHealth == 3)
    }

    @Test func ackEndsTheProbeAndImprovesHealth() throws {
        var core = SWIMFixture.core(peers: 5)
        _ = core.receive(SWIMFixture.envelope(from: 1, .gossip, gossip: [SWIMFixture.update(0, status: .suspect, from: 1)]), now: .zero)
        #expect(core.localHealth == 1)
        let (sentAt, ping) = try #require(firstPing(&core))
        guard case let .ping(sequence, target) = ping.envelope.message else { return }
        let index = Int(target.name.dropFirst())!
        _ = core.receive(SWIMFixture.envelope(from: index, .ack(sequence: sequence, target: target)), now: sentAt + .milliseconds(2))
        #expect(core.localHealth == 0)
        let later = core.tick(now: sentAt + .seconds(1))
        #expect(later.statuses(of: target).isEmpty)
    }

    @Test func nacksFromHelpersSpareTheProbersHealth() throws {
        var core = SWIMFixture.core(peers: 5)
        let (sentAt, ping) = try #require(firstPing(&core))
        guard case let .ping(sequence, _) = ping.envelope.message else { return }
        let requests = core.tick(now: sentAt + .milliseconds(500)).sent.filter { $0.via == .datagram }
        for request in requests {
            let helper = Int(request.to.host.split(separator: ".").last!)!
            _ = core.receive(SWIMFixture.envelope(from: helper, .nack(sequence: sequence)), now: sentAt + .milliseconds(900))
        }
        _ = core.tick(now: sentAt + .seconds(1))
        #expect(core.localHealth == 0)
    }

    @Test func lowHealthStretchesProbeTimeoutAndInterval() throws {
        var core = SWIMFixture.core(peers: 5)
        for incarnation in 0..<2 {
            _ = core.receive(SWIMFixture.envelope(from: 1, .gossip, gossip: [SWIMFixture.update(0, incarnation: UInt64(incarnation) + core.incarnation, status: .suspect, from: 1)]), now: .zero)
        }
        #expect(core.localHealth == 2)
        let (sentAt, _) = try #require(firstPing(&core))
        #expect(core.probe?.indirectAt == sentAt + .milliseconds(1500))
        #expect(core.probe?.endAt == sentAt + .seconds(3))
    }

    @Test func pingRequestIsRelayedAndTheAckForwarded() {
        var core = SWIMFixture.core(peers: 5)
        let request = SWIMFixture.envelope(
            from: 1, .pingRequest(sequence: 77, target: SWIMFixture.id(2), targetAddress: SWIMFixture.address(2), wantsNack: true))
        let relay = core.receive(request, now: .zero).sent
        #expect(relay.count == 1)
        #expect(relay.first?.to == SWIMFixture.address(2))
        guard case let .ping(local, target)? = relay.first?.envelope.message else { Issue.record("no relay ping"); return }
        #expect(target == SWIMFixture.id(2))
        let forwarded = core.receive(SWIMFixture.envelope(from: 2, .ack(sequence: local, target: target)), now: .zero + .milliseconds(3)).sent
        #expect(forwarded.first?.to == SWIMFixture.address(1))
        #expect(forwarded.first?.envelope.message == .ack(sequence: 77, target: SWIMFixture.id(2)))
    }

    @Test func relayTimeoutAnswersANack() {
        var core = SWIMFixture.core(peers: 5)
        let request = SWIMFixture.envelope(
            from: 1, .pingRequest(sequence: 78, target: SWIMFixture.id(2), targetAddress: SWIMFixture.address(2), wantsNack: true))
        _ = core.receive(request, now: .zero)
        #expect(core.tick(now: .zero + .milliseconds(399)).sent.isEmpty)
        let out = core.tick(now: .zero + .milliseconds(400)).sent
        #expect(out.contains { $0.to == SWIMFixture.address(1) && $0.envelope.message == .nack(sequence: 78) })
    }

    @Test func pingForAnEarlierIncarnationOfThisAddressIsNotAcked() {
        var core = SWIMFixture.core(peers: 2)
        let stale = NodeID(name: "n0", uid: 1)
        #expect(core.receive(SWIMFixture.envelope(from: 1, .ping(sequence: 5, target: stale)), now: .zero).sent.isEmpty)
        let ours = core.receive(SWIMFixture.envelope(from: 1, .ping(sequence: 6, target: SWIMFixture.id(0))), now: .zero).sent
        #expect(ours.first?.envelope.message == .ack(sequence: 6, target: SWIMFixture.id(0)))
    }

    @Test func streamPingIsAnsweredOnTheStream() {
        var core = SWIMFixture.core(peers: 2)
        let out = core.receive(SWIMFixture.envelope(from: 1, .ping(sequence: 9, target: SWIMFixture.id(0))), via: .stream, now: .zero).sent
        #expect(out.first?.via == .stream)
    }

    @Test func buddySystemPutsTheSuspicionFirstOnThePingToTheSuspect() throws {
        var core = SWIMFixture.core(peers: 1)
        _ = core.receive(SWIMFixture.envelope(from: 1, .gossip, gossip: [SWIMFixture.update(1, status: .suspect, from: 7)]), now: .zero)
        let (_, ping) = try #require(firstPing(&core))
        #expect(ping.envelope.gossip.first?.state.id == SWIMFixture.id(1))
        #expect(ping.envelope.gossip.first?.state.status == .suspect)
    }

    @Test func probesEveryMemberOnceInEachRotation() {
        var core = SWIMFixture.core(peers: 7)
        var targets: [NodeID] = []
        var guardTicks = 0
        while targets.count < 14, guardTicks < 1000 {
            guardTicks += 1
            let now = core.nextDeadline
            for sent in core.tick(now: now).sent {
                guard case let .ping(sequence, target) = sent.envelope.message, sent.via == .datagram else { continue }
                targets.append(target)
                let index = Int(target.name.dropFirst())!
                _ = core.receive(SWIMFixture.envelope(from: index, .ack(sequence: sequence, target: target)), now: now)
            }
        }
        #expect(Set(targets.prefix(7)).count == 7)
        #expect(Set(targets.suffix(7)).count == 7)
        // The rotation repeats: the same offset sequence every N − 1 periods.
        #expect(Array(targets.prefix(7)) == Array(targets.suffix(7)))
    }
}

/// After a stall (a tick far past its deadline) timers wait a grace period for queued packets.
@Suite struct StallGraceTests {
    @Test func suspicionExpiringDuringAStallWaitsForQueuedRefutation() {
        var settings = SWIMSettings()
        settings.suspicionMult = 1
        var core = SWIMFixture.core(peers: 3, settings: settings)
        _ = core.receive(SWIMFixture.envelope(from: 1, .gossip, gossip: [SWIMFixture.update(2, status: .suspect, from: 1)]), now: .zero)
        // Stalled for 10 s: far beyond the 1 s suspicion timeout (N = 4, K = 0).
        let resumed = Timestamp.zero + .seconds(10)
        #expect(core.tick(now: resumed).isEmpty)
        #expect(core.nextDeadline == resumed + .milliseconds(100))
        #expect(core.localHealth == 1)
        // The refutation that queued during the stall arrives first.
        _ = core.receive(SWIMFixture.envelope(from: 2, .gossip, gossip: [SWIMFixture.update(2, incarnation: 1, status: .alive, from: 2)]), now: resumed)
        let after = core.tick(now: resumed + .milliseconds(100))
        #expect(after.statuses(of: SWIMFixture.id(2)).isEmpty)
        #expect(core.member(SWIMFixture.id(2))?.status == .alive)
    }
}
