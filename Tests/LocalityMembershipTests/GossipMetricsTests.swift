import LocalityCore
import MetricsTestKit
import Testing
@testable import LocalityMembership

@Suite struct GossipMetricsTests {
    @Test func droppedPacketsAreCountedByReasonAndTrafficByTransport() async throws {
        let metrics = TestMetrics()
        let key = try ClusterKeyring(primaryBytes: Array(repeating: 3, count: 32))
        let wrongKey = try ClusterKeyring(primaryBytes: Array(repeating: 4, count: 32))
        let node = try GossipMembership(
            name: "m", address: NodeAddress(host: "127.0.0.1", port: 1), seeds: [], keyring: key, metricsFactory: metrics)

        let sender = NodeID(name: "s", uid: 42)
        let envelope = SWIMEnvelope(
            sender: sender, senderAddress: NodeAddress(host: "127.0.0.1", port: 2), message: .ping(sequence: 1, target: node.localNode))
        let payload = try SWIMCodec.encode(envelope)
        let valid = PacketSeal.seal(payload, content: .swim, sender: 42, counter: 1, keyring: key)
        await node.receiveDatagram(valid)
        await node.receiveDatagram(valid)  // replay
        await node.receiveDatagram(PacketSeal.seal(payload, content: .swim, sender: 42, counter: 2, keyring: wrongKey))
        await node.receiveDatagram(PacketSeal.seal([1, 2, 3], content: .swim, sender: 42, counter: 3, keyring: key))
        await node.receiveDatagram(PacketSeal.seal(payload, content: .swim, sender: 43, counter: 1, keyring: key))
        await node.receiveDatagram([0, 1])

        func dropped(_ reason: String) throws -> Int64 {
            try metrics.expectCounter("locality_gossip_packets_dropped_total", [("reason", reason)]).totalValue
        }
        #expect(try dropped("replay") == 1)
        #expect(try dropped("bad_tag") == 1)
        #expect(try dropped("malformed") == 2)  // garbage envelope, and the 2-byte packet
        #expect(try dropped("sender_mismatch") == 1)
        let packetsIn = try metrics.expectCounter("locality_gossip_packets_in_total", [("transport", "udp")])
        #expect(packetsIn.totalValue == 6)
        // The one valid ping was answered with an ack datagram.
        let packetsOut = try metrics.expectCounter("locality_gossip_packets_out_total", [("transport", "udp")])
        #expect(packetsOut.totalValue == 1)
    }
}
