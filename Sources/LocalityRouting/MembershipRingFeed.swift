import LocalityCore
import LocalityMembership
import LocalityPlacement

/// Keeps a `RingOwnerResolver` in step with a `MembershipProvider`, so routing follows
/// the cluster as gossip (or any provider) sees it.
///
/// A member is on the ring while it is `alive` or `suspect` (a suspicion is not a
/// failure: moving its keys on every suspicion would make ownership flap) and advertises
/// its transport address in its metadata; it leaves the ring when it is `dead`, `left`
/// or removed. Metadata is text of comma-separated `key=value` pairs, e.g.
/// `transport=127.0.0.1:7101,zone=a`; the same member metadata carries other keys too.
///
/// Whoever must act on each new view subscribes to the resolver (`RingOwnerResolver.rings`);
/// the directory does so with `DirectoryService.follow(resolver)`.
public enum MembershipRingFeed {
    /// The metadata key under which a member advertises its transport address.
    public static let transportKey = "transport"

    /// Metadata advertising `transport`, followed by any `extra` pairs.
    public static func metadata(transport: NodeAddress, extra: [String: String] = [:]) -> [UInt8] {
        let pairs = ["\(transportKey)=\(transport)"] + extra.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return Array(pairs.joined(separator: ",").utf8)
    }

    /// The metadata key under which a member advertises its store identity.
    public static let storeKey = "store"
    /// The metadata key under which a member advertises its ring algorithm
    /// (`RingAlgorithm.rawValue`); a member that advertises none uses virtual nodes.
    public static let ringKey = "ring"

    /// The ring algorithm a member advertises (virtual nodes when it advertises none).
    public static func ringAlgorithm(in metadata: [UInt8]) -> String {
        value(of: ringKey, in: metadata) ?? RingAlgorithm.virtualNodes.rawValue
    }

    /// The transport address a member advertises, or nil when it advertises none.
    public static func transportAddress(in metadata: [UInt8]) -> NodeAddress? {
        value(of: transportKey, in: metadata).flatMap(NodeAddress.init(parsing:))
    }

    /// The value of the first `key=value` pair for `key` in `metadata`.
    public static func value(of key: String, in metadata: [UInt8]) -> String? {
        let text = String(decoding: metadata, as: UTF8.self)
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0] == Substring(key) { return String(parts[1]) }
        }
        return nil
    }

    /// The ring's member list for a membership view. With `storeIdentity`, a member that
    /// advertises another store (or none) is left off: keys must never move to a node
    /// whose store has not seen their state. With `ringAlgorithm`, a member that maps keys
    /// with another algorithm is left off too.
    public static func routableMembers(
        _ members: [MemberState], storeIdentity: String? = nil, ringAlgorithm: String? = nil
    ) -> [NodeID: NodeAddress] {
        var routable: [NodeID: NodeAddress] = [:]
        for member in members where member.status == .alive || member.status == .suspect {
            if let storeIdentity, value(of: storeKey, in: member.metadata) != storeIdentity { continue }
            // Members that map keys another way would disagree on owners.
            if let ringAlgorithm, self.ringAlgorithm(in: member.metadata) != ringAlgorithm { continue }
            if let address = transportAddress(in: member.metadata) { routable[member.id] = address }
        }
        return routable
    }

    /// Applies `provider`'s events to `resolver` until the subscription ends or the task
    /// is cancelled; with `storeIdentity`, only members on the same store are routable
    /// (see `routableMembers`). The resolver is updated once per event whose change matters to the
    /// ring (a suspicion of an already routable member does not rebuild it).
    public static func run(
        provider: some MembershipProvider, resolver: RingOwnerResolver, storeIdentity: String? = nil, ringAlgorithm: String? = nil
    ) async {
        var view: [NodeID: MemberState] = [:]
        var routable = resolver.members
        var gateways = resolver.gateways
        for await event in provider.events() {
            switch event {
            case .statusChanged(let member, _): view[member.id] = member
            case .removed(let id): view[id] = nil
            }
            let next = routableMembers(Array(view.values), storeIdentity: storeIdentity, ringAlgorithm: ringAlgorithm)
            let nextGateways = gatewayAddresses(Array(view.values)).filter { next[$0.key] != nil }
            if next != routable || nextGateways != gateways {
                (routable, gateways) = (next, nextGateways)
                resolver.update(next, gateways: nextGateways)
            }
        }
    }

    /// Metadata key of a member's HTTP gateway address (`http=host:port`).
    public static let gatewayKey = "http"

    /// The HTTP gateways the members advertise.
    public static func gatewayAddresses(_ members: [MemberState]) -> [NodeID: String] {
        var gateways: [NodeID: String] = [:]
        for member in members {
            if let gateway = value(of: gatewayKey, in: member.metadata) { gateways[member.id] = gateway }
        }
        return gateways
    }
}
