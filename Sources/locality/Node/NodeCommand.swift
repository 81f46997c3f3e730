import ArgumentParser
import Foundation
import LocalityCore
import LocalityMembership
import Logging
import ServiceLifecycle

/// `locality node`: runs one gossip member until SIGTERM/SIGINT, then leaves gracefully.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run a cluster node (SWIM gossip membership over UDP + TCP).")

    @Option(help: "Node name, unique among live members.")
    var name: String

    @Option(help: "host:port to listen on (UDP and TCP) and advertise.")
    var bind: String

    @Option(help: "Comma-separated host:port of members to join through.")
    var seeds: String = ""

    @Option(help: "File with the cluster key (hex or base64, ≥ 16 bytes; optional second line: an accepted old key).")
    var clusterKeyFile: String

    @Option(help: "Metadata gossiped with this member (UTF-8 text).")
    var metadata: String = ""

    @Option(help: "SWIM probe interval in milliseconds (default: SWIMSettings, 1000).")
    var probeIntervalMs: Int?

    @Option(help: "SWIM probe timeout in milliseconds (default: SWIMSettings, 500).")
    var probeTimeoutMs: Int?

    @Option(help: "Gossip interval in milliseconds (default: SWIMSettings, 200).")
    var gossipIntervalMs: Int?

    @Option(help: "Suspicion multiplier (default: SWIMSettings).")
    var suspicionMult: Double?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Flag(help: "Leave the cluster and exit when standard input closes (a parent process that starts nodes keeps it open, so its children never outlive it).")
    var exitOnStdinEOF = false

    func run() async throws {
        guard let address = NodeAddress(parsing: bind) else { throw ValidationError("--bind must be host:port, got \(bind)") }
        if exitOnStdinEOF { StdinWatch.leaveOnEOF() }
        let seedAddresses = try seeds.split(separator: ",").map { text -> NodeAddress in
            guard let seed = NodeAddress(parsing: String(text)) else { throw ValidationError("bad seed address \(text)") }
            return seed
        }
        guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("unknown --log-level \(logLevel)") }
        let keyring = try ClusterKeyFile.load(clusterKeyFile)
        var swim = SWIMSettings()
        if let probeIntervalMs { swim.probeInterval = .milliseconds(try positive(probeIntervalMs, "--probe-interval-ms")) }
        if let probeTimeoutMs { swim.probeTimeout = .milliseconds(try positive(probeTimeoutMs, "--probe-timeout-ms")) }
        if let gossipIntervalMs { swim.gossipInterval = .milliseconds(try positive(gossipIntervalMs, "--gossip-interval-ms")) }
        if let suspicionMult { swim.suspicionMult = suspicionMult }

        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "locality.node")
        logger[metadataKey: "node"] = "\(name)"
        let node = try GossipMembership(
            name: name, address: address, seeds: seedAddresses, keyring: keyring,
            metadata: Array(metadata.utf8), swim: swim, logger: Logger(label: "locality.gossip"))
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: node)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }

    private func positive(_ value: Int, _ flag: String) throws -> Int {
        guard value > 0 else { throw ValidationError("\(flag) must be positive") }
        return value
    }
}

/// Reads `--cluster-key-file` (format documented on `ClusterKeyring`).
enum ClusterKeyFile {
    static func load(_ path: String) throws -> ClusterKeyring {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read cluster key file \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("cluster key file \(path) is not UTF-8")
        }
        do {
            return try ClusterKeyring(fileText: text)
        } catch {
            throw ValidationError("cluster key file \(path): \(error.message)")
        }
    }
}

/// Turns the end of standard input into a graceful shutdown (SIGTERM to ourselves, which
/// the ServiceGroup answers by leaving the cluster): when the parent that holds the other
/// end of the pipe dies, so does the node.
enum StdinWatch {
    static func leaveOnEOF() {
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 256)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
                if count == 0 || (count < 0 && errno != EINTR) { break }
            }
            kill(getpid(), SIGTERM)
        }
    }
}
