import LocalityCore
import Testing

@testable import LocalityMembership

/// Members and cores for the SWIM tests: member 0 is the core under test.
enum SWIMFixture {
    static func id(_ i: Int) -> NodeID { NodeID(name: "n\(i)", uid: UInt64(1000 + i)) }
    static func address(_ i: Int) -> NodeAddress { NodeAddress(host: "10.0.0.\(i)", port: 7946) }

    static func state(_ i: Int, incarnation: UInt64 = 0, status: MemberStatus = .alive, metadata: [UInt8] = [])
        -> MemberState
    {
        MemberState(id: id(i), address: address(i), incarnation: incarnation, status: status, metadata: metadata)
    }

    static func update(_ i: Int, incarnation: UInt64 = 0, status: MemberStatus, from origin: Int) -> GossipUpdate {
        GossipUpdate(state: state(i, incarnation: incarnation, status: status), origin: id(origin))
    }

    /// Member 0 with members 1...peers already known (no gossip queued).
    static func core(peers: Int, settings: SWIMSettings = SWIMSettings(), seed: UInt64 = 1) -> SWIMCore {
        core(member: 0, knowing: Array(1...max(1, peers)), settings: settings, seed: seed)
    }

    /// Member `member` with the members `known` already known (no gossip queued).
    static func core(member: Int, knowing known: [Int], settings: SWIMSettings = SWIMSettings(), seed: UInt64) -> SWIMCore {
        var core = try! SWIMCore(
            id: id(member), address: address(member), metadata: [], settings: settings, random: SeededRandom(seed: seed),
            now: .zero)
        _ = core.bootstrap(known.map { state($0) }, now: .zero)
        return core
    }

    /// Probing far away and no push-pull: only gossip and suspicion timers make a core act.
    static func quietSettings() -> SWIMSettings {
        var settings = SWIMSettings()
        settings.probeInterval = .seconds(1000)
        settings.pushPullInterval = .zero
        return settings
    }

    static func envelope(from i: Int, _ message: SWIMMessage, gossip: [GossipUpdate] = []) -> SWIMEnvelope {
        SWIMEnvelope(sender: id(i), senderAddress: address(i), message: message, gossip: gossip)
    }

    /// Ticks at each successive deadline until `stop` holds for the directives of a tick,
    /// at most `limit` ticks. Returns the time and directives of that tick.
    static func runUntil(
        _ core: inout SWIMCore, limit: Int = 10_000, _ stop: ([SWIMDirective], Timestamp) -> Bool
    ) -> (Timestamp, [SWIMDirective])? {
        for _ in 0..<limit {
            let now = core.nextDeadline
            let out = core.tick(now: now)
            if stop(out, now) { return (now, out) }
        }
        return nil
    }
}

struct SentMessage {
    var envelope: SWIMEnvelope
    var to: NodeAddress
    var via: SWIMTransportKind
}

extension Array where Element == SWIMDirective {
    var sent: [SentMessage] {
        compactMap {
            if case let .send(envelope, to, via) = $0 { return SentMessage(envelope: envelope, to: to, via: via) }
            return nil
        }
    }

    var events: [MembershipEvent] {
        compactMap {
            if case let .event(event) = $0 { return event }
            return nil
        }
    }

    /// Status changes reported about `id`.
    func statuses(of id: NodeID) -> [MemberStatus] {
        events.compactMap {
            if case let .statusChanged(state, _) = $0, state.id == id { return state.status }
            return nil
        }
    }
}
