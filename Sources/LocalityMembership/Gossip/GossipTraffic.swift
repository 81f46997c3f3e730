import Synchronization

/// Packets and bytes a gossip node sent and received since it was created, over UDP and
/// TCP together, sealed sizes (what crosses the network, without IP/UDP/TCP headers).
/// The same figures as `locality_gossip_{packets,bytes}_{in,out}_total`, readable
/// without a metrics backend (`GossipMembership.traffic`, `locality bench gossip`).
public struct GossipTraffic: Sendable, Hashable, Codable {
    /// Packets and frames sent.
    public var packetsOut = 0
    /// Bytes sent.
    public var bytesOut = 0
    /// Packets and frames received (before any check).
    public var packetsIn = 0
    /// Bytes received.
    public var bytesIn = 0

    /// No traffic.
    public init() {}
}

/// The running totals behind `GossipTraffic`, updated from the node and its send tasks.
final class GossipTrafficTally: Sendable {
    private let totals = Mutex(GossipTraffic())

    func sent(bytes: Int) {
        totals.withLock {
            $0.packetsOut += 1
            $0.bytesOut += bytes
        }
    }

    func received(bytes: Int) {
        totals.withLock {
            $0.packetsIn += 1
            $0.bytesIn += bytes
        }
    }

    var snapshot: GossipTraffic { totals.withLock { $0 } }
}
