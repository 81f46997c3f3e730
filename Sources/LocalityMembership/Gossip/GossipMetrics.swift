import Metrics

/// The gossip node's swift-metrics instruments (`locality_gossip_*`).
struct GossipMetrics: Sendable {
    enum Transport: String { case udp, tcp }

    private let membersByStatus: [MemberStatus: Gauge]
    private let packetsIn: [String: Counter]
    private let packetsOut: [String: Counter]
    private let bytesIn: [String: Counter]
    private let bytesOut: [String: Counter]
    private let dropped: [String: Counter]
    let eventsDropped: Counter
    /// `locality_gossip_udp_rebinds_total`: the UDP socket was bound again after a send
    /// error closed it.
    let udpRebinds: Counter
    /// `locality_gossip_packets_accepted_key_total`: packets opened with the accepted
    /// key, not the primary (a sender has not switched its primary yet; see the rotation
    /// procedure in docs/security.md).
    let openedWithAcceptedKey: Counter
    /// The totals of the packet and byte counters, readable in process.
    let traffic = GossipTrafficTally()

    init(factory: any MetricsFactory = MetricsSystem.factory) {
        var members: [MemberStatus: Gauge] = [:]
        for status in MemberStatus.allCases {
            members[status] = Gauge(label: "locality_gossip_members", dimensions: [("status", status.description)], factory: factory)
        }
        membersByStatus = members
        func byTransport(_ label: String) -> [String: Counter] {
            var counters: [String: Counter] = [:]
            for transport in ["udp", "tcp"] {
                counters[transport] = Counter(label: label, dimensions: [("transport", transport)], factory: factory)
            }
            return counters
        }
        packetsIn = byTransport("locality_gossip_packets_in_total")
        packetsOut = byTransport("locality_gossip_packets_out_total")
        bytesIn = byTransport("locality_gossip_bytes_in_total")
        bytesOut = byTransport("locality_gossip_bytes_out_total")
        var drops: [String: Counter] = [:]
        for reason in PacketSeal.DropReason.allCases {
            drops[reason.rawValue] = Counter(label: "locality_gossip_packets_dropped_total", dimensions: [("reason", reason.rawValue)], factory: factory)
        }
        dropped = drops
        eventsDropped = Counter(label: "locality_gossip_events_dropped_total", factory: factory)
        udpRebinds = Counter(label: "locality_gossip_udp_rebinds_total", factory: factory)
        openedWithAcceptedKey = Counter(label: "locality_gossip_packets_accepted_key_total", factory: factory)
    }

    func received(_ transport: Transport, bytes: Int) {
        packetsIn[transport.rawValue]?.increment()
        bytesIn[transport.rawValue]?.increment(by: bytes)
        traffic.received(bytes: bytes)
    }

    func sent(_ transport: Transport, bytes: Int) {
        packetsOut[transport.rawValue]?.increment()
        bytesOut[transport.rawValue]?.increment(by: bytes)
        traffic.sent(bytes: bytes)
    }

    func dropped(_ reason: PacketSeal.DropReason) {
        dropped[reason.rawValue]?.increment()
    }

    func record(members: [MemberState]) {
        var counts: [MemberStatus: Int] = [:]
        for member in members { counts[member.status, default: 0] += 1 }
        for status in MemberStatus.allCases { membersByStatus[status]?.record(counts[status, default: 0]) }
    }
}
