import LocalityCore
import Testing

@testable import LocalityMembership

/// Ours: a refused stream ping to the member under probe declares it dead at once.
@Suite struct SWIMRefusalTests {
    /// Runs the core to its first probe and past the probe timeout, so the stream ping is
    /// out. Returns the time, the probed member's index and the direct ping's sequence.
    func probeWithStreamPingOut(_ core: inout SWIMCore) throws -> (Timestamp, Int, UInt32) {
        let found = SWIMFixture.runUntil(&core) { out, _ in
            out.sent.contains { $0.via == .stream && { if case .ping = $0.envelope.message { true } else { false } }($0) }
        }
        let (now, out) = try #require(found)
        let stream = try #require(out.sent.first { $0.via == .stream })
        guard case let .ping(sequence, target) = stream.envelope.message else {
            Issue.record("not a ping")
            return (now, 0, 0)
        }
        return (now, Int(target.name.dropFirst())!, sequence)
    }

    @Test func refusalOfTheProbedMemberDeclaresItDeadAndBroadcastsIt() throws {
        var core = SWIMFixture.core(peers: 5)
        let (now, member, _) = try probeWithStreamPingOut(&core)
        let out = core.streamFailed(to: SWIMFixture.address(member), reason: .refused, now: now + .milliseconds(1))
        #expect(out.statuses(of: SWIMFixture.id(member)) == [.dead])
        #expect(core.member(SWIMFixture.id(member))?.status == .dead)
        #expect(core.probe == nil)
        // The declaration is gossiped with ourselves as origin, as an expired suspicion would be.
        let next = SWIMFixture.runUntil(&core) { out, _ in !out.sent.isEmpty }
        let gossip = try #require(next).1.sent.flatMap(\.envelope.gossip)
        #expect(gossip.contains { $0.state.id == SWIMFixture.id(member) && $0.state.status == .dead && $0.origin == SWIMFixture.id(0) })
    }

    @Test func refusalOfAnotherAddressChangesNothing() throws {
        var core = SWIMFixture.core(peers: 5)
        let (now, member, _) = try probeWithStreamPingOut(&core)
        let other = member % 5 + 1
        let out = core.streamFailed(to: SWIMFixture.address(other), reason: .refused, now: now + .milliseconds(1))
        #expect(out.events.isEmpty)
        #expect(core.member(SWIMFixture.id(other))?.status == .alive)
        #expect(core.member(SWIMFixture.id(member))?.status == .alive)
    }

    @Test func refusalAfterAnAckChangesNothing() throws {
        var core = SWIMFixture.core(peers: 5)
        let (now, member, sequence) = try probeWithStreamPingOut(&core)
        _ = core.receive(
            SWIMFixture.envelope(from: 2, .ack(sequence: sequence, target: SWIMFixture.id(member))),
            now: now + .milliseconds(1))
        let out = core.streamFailed(to: SWIMFixture.address(member), reason: .refused, now: now + .milliseconds(2))
        #expect(out.events.isEmpty)
        #expect(core.member(SWIMFixture.id(member))?.status == .alive)
    }

    @Test func refusalBeforeTheStreamPingChangesNothing() throws {
        var core = SWIMFixture.core(peers: 5)
        let found = SWIMFixture.runUntil(&core) { out, _ in out.sent.contains { if case .ping = $0.envelope.message { true } else { false } } }
        let (now, out) = try #require(found)
        let ping = try #require(out.sent.first)
        let result = core.streamFailed(to: ping.to, reason: .refused, now: now + .milliseconds(1))
        #expect(result.events.isEmpty)
    }

    @Test func otherFailuresAndTheSwitchedOffSettingChangeNothing() throws {
        var off = SWIMSettings()
        off.refusedConnectionMeansDead = false
        for (settings, reason) in [(SWIMSettings(), SWIMStreamFailure.other), (off, .refused)] {
            var core = SWIMFixture.core(peers: 5, settings: settings)
            let (now, member, _) = try probeWithStreamPingOut(&core)
            let out = core.streamFailed(to: SWIMFixture.address(member), reason: reason, now: now + .milliseconds(1))
            #expect(out.events.isEmpty)
            #expect(core.member(SWIMFixture.id(member))?.status == .alive)
            // The probe still runs to the end of its period and suspects, as without refusals.
            let end = core.tick(now: now + .milliseconds(500))
            #expect(end.statuses(of: SWIMFixture.id(member)) == [.suspect])
        }
    }

    @Test func refusedPushPullIsOnlyRetried() throws {
        var settings = SWIMSettings()
        settings.pushPullInterval = .seconds(2)
        var core = SWIMFixture.core(peers: 4, settings: settings)
        let found = SWIMFixture.runUntil(&core) { out, _ in
            out.sent.contains { if case .pushPull = $0.envelope.message { true } else { false } }
        }
        let (now, out) = try #require(found)
        let first = try #require(out.sent.first { if case .pushPull = $0.envelope.message { true } else { false } })
        // Not the member under probe (or no probe whose stream ping is out): only the retry.
        try #require(core.probe?.indirectSent != true || core.probe?.targetAddress != first.to)
        let before = core.members
        let retry = core.streamFailed(to: first.to, reason: .refused, now: now)
        #expect(retry.events.isEmpty)
        #expect(retry.sent.count == 1)
        #expect(retry.sent.first?.to != first.to)
        #expect(core.members == before)
    }
}
