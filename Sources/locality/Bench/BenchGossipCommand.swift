import ArgumentParser
import Foundation
import LocalityCore
import LocalityLauncher
import LocalityMembership
import Logging
import NIOPosix
import ServiceLifecycle

/// `locality bench gossip`: the gossip traffic of N in-process nodes on loopback with the
/// default SWIM settings, in bytes per node per second as sealed now (AES-256-GCM, seal
/// version 2), and the same traffic as the previous HMAC-only seal (version 1, 4 bytes
/// more per packet) and without any seal would have been. The payloads are the same
/// size in all three (GCM adds no padding), so the other two follow exactly from the
/// measured bytes and packet count.
struct BenchGossipCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gossip",
        abstract: "Measure gossip bytes per node per second (AES-GCM sealed, HMAC-only and bare)."
    )

    @Option(help: "Gossip nodes, in this process on 127.0.0.1.")
    var nodes: Int = 3

    @Option(help: "Measured seconds, after the nodes converged.")
    var seconds: Double = 20

    @Flag(help: "Print one JSON object.")
    var json = false

    /// The figures of one run.
    struct Report: Codable {
        var nodes: Int
        var seconds: Double
        var packetsPerNodePerS: Double
        var aesGcmBytesPerNodePerS: Double
        var hmacBytesPerNodePerS: Double
        var bareBytesPerNodePerS: Double
        var aesGcmOverheadBytesPerPacket: Int
        var hmacOverheadBytesPerPacket: Int
        var meanSealedPacketBytes: Double

        enum CodingKeys: String, CodingKey {
            case nodes, seconds
            case packetsPerNodePerS = "packets_per_node_per_s"
            case aesGcmBytesPerNodePerS = "aes_gcm_bytes_per_node_per_s"
            case hmacBytesPerNodePerS = "hmac_bytes_per_node_per_s"
            case bareBytesPerNodePerS = "bare_bytes_per_node_per_s"
            case aesGcmOverheadBytesPerPacket = "aes_gcm_overhead_bytes_per_packet"
            case hmacOverheadBytesPerPacket = "hmac_overhead_bytes_per_packet"
            case meanSealedPacketBytes = "mean_sealed_packet_bytes"
        }
    }

    /// Seal overhead of version 1 (18-byte header, 32-byte HMAC-SHA256 tag).
    static let hmacOverhead = 50

    func validate() throws {
        guard (2...32).contains(nodes) else { throw ValidationError("--nodes must be 2…32") }
        guard seconds > 0, seconds <= 600 else { throw ValidationError("--seconds must be in (0, 600]") }
    }

    func run() async throws {
        var logger = Logger(label: "locality.bench.gossip")
        logger.logLevel = .warning
        let ports = try await LoopbackPorts.free(nodes)
        var random = SystemRandomNumberGenerator()
        let keyring = try ClusterKeyring(primaryBytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) })
        let members = try ports.enumerated().map { index, port in
            try GossipMembership(
                name: "g\(index + 1)", address: NodeAddress(host: "127.0.0.1", port: port),
                seeds: index == 0 ? [] : [NodeAddress(host: "127.0.0.1", port: ports[0])], keyring: keyring, logger: logger)
        }
        let group = ServiceGroup(configuration: .init(services: members.map { .init(service: $0) }, logger: logger))
        let report = try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                var converged = true
                for member in members where await member.members().filter({ $0.status == .alive }).count != nodes { converged = false }
                if converged { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let before = members.map(\.traffic)
            try await Task.sleep(for: .seconds(seconds))
            let after = members.map(\.traffic)
            await group.triggerGracefulShutdown()
            return measure(before: before, after: after)
        }
        if json {
            print(try report.sortedKeysJSON())
        } else {
            print(String(
                format: "%d nodes, %.0f s: %.1f packets/node/s; bytes/node/s: %.0f AES-GCM (seal v2), %.0f HMAC-only (seal v1), %.0f bare",
                report.nodes, report.seconds, report.packetsPerNodePerS, report.aesGcmBytesPerNodePerS,
                report.hmacBytesPerNodePerS, report.bareBytesPerNodePerS))
        }
    }

    private func measure(before: [GossipTraffic], after: [GossipTraffic]) -> Report {
        let packets = Double(zip(before, after).map { $1.packetsOut - $0.packetsOut }.reduce(0, +))
        let bytes = Double(zip(before, after).map { $1.bytesOut - $0.bytesOut }.reduce(0, +))
        let perNodeSecond = Double(nodes) * seconds
        return Report(
            nodes: nodes, seconds: seconds, packetsPerNodePerS: packets / perNodeSecond,
            aesGcmBytesPerNodePerS: bytes / perNodeSecond,
            hmacBytesPerNodePerS: (bytes + packets * Double(Self.hmacOverhead - PacketSeal.overhead)) / perNodeSecond,
            bareBytesPerNodePerS: (bytes - packets * Double(PacketSeal.overhead)) / perNodeSecond,
            aesGcmOverheadBytesPerPacket: PacketSeal.overhead, hmacOverheadBytesPerPacket: Self.hmacOverhead,
            meanSealedPacketBytes: packets > 0 ? bytes / packets : 0)
    }
}
