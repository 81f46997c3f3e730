import LocalityCore
import Testing

@testable import LocalityMembership

/// Retransmission limits, packet budget, reaping, leave, push-pull and determinism.
@Suite struct SWIMLifecycleTests {
    @Test func retransmitLimitIsMultTimesCeilLog10OfNPlusOne() {
        var settings = SWIMSettings()
        settings.retransmitMult = 4
        #expect(SWIMFixture.core(peers: 8, settings: settings).retransmitLimit == 4)  // N = 9 → ceil(log10 10) = 1
        #expect(SWIMFixture.core(peers: 9, settings: settings).retransmitLimit == 8)  // N = 10 → ceil(log10 11) = 2
        #expect(SWIMFixture.core(peers: 99, settings: settings).retransmitLimit == 12)  // N = 100 → ceil(log10 101) = 3
        #expect(SWIMFixture.core(peers: 99).retransmitLimit == 18)  // default mult 6
    }

    @Test func oversizedMetadataIsRejected() {
        #expect(throws: LocalityError.self) {
            try SWIMCore(
                id: SWIMFixture.id(0), address: SWIMFixture.address(0), metadata: [UInt8](repeating: 1, count: 513),
                settings: SWIMSettings(), random: SeededRandom(seed: 1), now: .zero)
        }
    }

    @Test(arguments: [UInt64(1), 2, 3, 4])
    func everyDatagramFitsTheMaximumPacketSize(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var core = SWIMFixture.core(peers: 20, seed: seed)
        var now = Timestamp.zero
        for round in 0..<300 {
            let updates = (0..<8).map { i in
                GossipUpdate(
                    state: SWIMFixture.state(
                        100 + round * 8 + i, metadata: [UInt8](repeating: 7, count: Int(random.next() % 513))),
                    origin: SWIMFixture.id(1))
            }
            var out = core.receive(SWIMFixture.envelope(from: 1, .ping(sequence: UInt32(round), target: SWIMFixture.id(0)), gossip: updates), now: now)
            now = max(now, core.nextDeadline)
            out += core.tick(now: now)
            for sent in out.sent where sent.via == .datagram {
                #expect(sent.envelope.estimatedEncodedSize() <= 1400)
            }
        }
    }

    @Test func deadMemberIsReapedAndItsTombstoneBlocksStaleAlive() {
        var settings = SWIMSettings()
        settings.reapAfter = .seconds(30)
        var core = SWIMFixture.core(peers: 4, settings: settings)
        let member = SWIMFixture.id(3)
        let t0 = Timestamp.zero + .seconds(1)
        _ = core.receive(SWIMFixture.envelope(from: 1, .gossip, gossip: [SWIMFixture.update(3, incarnation: 2, status: .dead, from: 1)]), now: t0)
        #expect(core.member(member)?.status == .dead)
        let reaped = SWIMFixture.runUntil(&core) { out, _ in out.events.contains(.removed(member)) }
        #expect(reaped?.0 == t0 + .seconds(30))
        #expect(core.member(member) == nil)
        let stale = core.receive(SWIMFixture.envelope(from: 2, .gossip, gossip: [SWIMFixture.update(3, incarnation: 2, status: .alive, from: 2)]), now: t0 + .seconds(31))
        #expect(stale.events.isEmpty)
        #expect(core.member(member) == nil)
        let rejoined = core.receive(SWIMFixture.envelope(from: 3, .gossip, gossip: [SWIMFixture.update(3, incarnation: 3, status: .alive, from: 3)]), now: t0 + .seconds(32))
        #expect(rejoined.statuses(of: member) == [.alive])
    }

    @Test func leaveGossipsLeftAndTheReceiverMarksItLeft() throws {
        var leaver = SWIMFixture.core(peers: 4)
        let out = leaver.leave(now: .zero)
        let packet = try #require(out.sent.first)
        #expect(packet.envelope.gossip.contains { $0.state.id == SWIMFixture.id(0) && $0.state.status == .left })
        // The leaver no longer probes.
        let later = SWIMFixture.runUntil(&leaver, limit: 50) { out, _ in out.sent.contains { if case .ping = $0.envelope.message { true } else { false } } }
        #expect(later == nil)

        var other = try SWIMCore(
            id: SWIMFixture.id(1), address: SWIMFixture.address(1), metadata: [], settings: SWIMSettings(),
            random: SeededRandom(seed: 5), now: .zero)
        _ = other.bootstrap([SWIMFixture.state(0), SWIMFixture.state(2)], now: .zero)
        let seen = other.receive(packet.envelope, now: .zero + .milliseconds(1))
        #expect(seen.statuses(of: SWIMFixture.id(0)) == [.left])
    }

    @Test func joinExchangesFullStateOverTheStream() throws {
        var joiner = try SWIMCore(
            id: SWIMFixture.id(9), address: SWIMFixture.address(9), metadata: [1, 2], settings: SWIMSettings(),
            random: SeededRandom(seed: 3), now: .zero)
        var seed = SWIMFixture.core(peers: 3)
        let join = try #require(joiner.join(seeds: [SWIMFixture.address(0)], now: .zero).sent.first)
        #expect(join.via == .stream)
        let reply = seed.receive(join.envelope, via: .stream, now: .zero)
        #expect(reply.statuses(of: SWIMFixture.id(9)) == [.alive])
        let answer = try #require(reply.sent.first { if case .pushPull(_, true, _) = $0.envelope.message { true } else { false } })
        #expect(answer.to == SWIMFixture.address(9))
        let learned = joiner.receive(answer.envelope, via: .stream, now: .zero)
        #expect(learned.events.count == 4)
        #expect(joiner.members.count == 5)
    }

    @Test func pushPullDeadOnlyMakesUsSuspect() {
        var core = SWIMFixture.core(peers: 3)
        let message = SWIMMessage.pushPull(isJoin: false, isReply: true, states: [SWIMFixture.state(2, status: .dead)])
        let out = core.receive(SWIMFixture.envelope(from: 1, message), via: .stream, now: .zero)
        #expect(out.statuses(of: SWIMFixture.id(2)) == [.suspect])
    }

    @Test func sameSeedSameInputsSameDirectives() {
        func script(seed: UInt64) -> [SWIMDirective] {
            var core = SWIMFixture.core(peers: 12, seed: seed)
            var all: [SWIMDirective] = []
            for step in 0..<200 {
                let now = core.nextDeadline
                all += core.tick(now: now)
                if step % 7 == 0 {
                    let update = SWIMFixture.update(step % 12 + 1, incarnation: UInt64(step), status: .suspect, from: 3)
                    all += core.receive(SWIMFixture.envelope(from: 2, .gossip, gossip: [update]), now: now)
                }
            }
            return all
        }
        let a = script(seed: 11)
        #expect(a == script(seed: 11))
        #expect(a != script(seed: 12))
    }
}

@Suite struct PushPullRetryTests {
    @Test func failedPeriodicPushPullIsRetriedOnceWithAnotherMember() throws {
        var settings = SWIMSettings()
        settings.pushPullInterval = .seconds(2)
        var core = SWIMFixture.core(peers: 4, settings: settings)
        let found = SWIMFixture.runUntil(&core) { out, _ in out.sent.contains { if case .pushPull = $0.envelope.message { true } else { false } } }
        let (now, out) = try #require(found)
        let first = try #require(out.sent.first { if case .pushPull = $0.envelope.message { true } else { false } })
        let retry = core.streamFailed(to: first.to, now: now).sent
        #expect(retry.count == 1)
        #expect(retry.first?.via == .stream)
        #expect(retry.first?.to != first.to)
        #expect(core.streamFailed(to: retry.first!.to, now: now).isEmpty)
    }
}
