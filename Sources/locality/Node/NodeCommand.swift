import ArgumentParser
import Foundation
import LocalityActors
import LocalityCore
import LocalityGateway
import LocalityMembership
import LocalityRouting
import Logging
import ServiceLifecycle

/// `locality node`: runs one cluster node until SIGTERM/SIGINT: a gossip member (SWIM over
/// UDP + TCP) that hosts virtual actors (node transport, handle-or-forward router, ring
/// fed by gossip, `ClusterSystem` with the example kinds on a state store).
///
/// With `--http`, an HTTP gateway (LocalityGateway) serves actor calls as JSON and the
/// cluster views.
///
/// SIGTERM/SIGINT drains in this order: the HTTP gateway stops (finishing the requests
/// it accepted), the actors deactivate (each flushes its state), the node leaves the
/// cluster, then the transport stops and the store closes; exit 0.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run a cluster node: SWIM gossip membership and virtual actors.")

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

    @Option(help: "host:port of the node transport (actor calls between nodes), advertised in the gossip metadata as transport=host:port; port 0 picks one. Default: the --bind host, its port + 1000.")
    var transport: String?

    @Option(help: "host:port of the HTTP gateway (POST /v1/actors/{type}/{id}/{method}, /v1/cluster/…, /healthz); port 0 picks one. Default: no gateway.")
    var http: String?

    @Option(help: "Most open HTTP connections; more are closed on accept (default: GatewaySettings, 16384).")
    var httpMaxConnections: Int?

    @Option(help: "Seconds an HTTP connection may stay idle or take to send a request head (default: GatewaySettings, 30).")
    var httpIdleTimeoutS: Int?

    @Option(help: "Where actor state lives: memory, sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE[?table=NAME]. Default: sqlite:<data-dir>/state.sqlite.")
    var store: String?

    @Option(help: "Directory of this node's files. Default: ./locality-data/<name>.")
    var dataDir: String?

    @Option(help: "Seconds an actor may stay idle before it is deactivated (default: ActorSettings, 900).")
    var idleTimeoutS: Int?

    @Option(help: "Most live activations on this node; past it the least recently used idle one is evicted (default: ActorSettings, 1000000).")
    var maxActivations: Int?

    @Option(help: "Where a new actor is activated: hash (its ring owner, no directory), prefer-local (the calling node) or two-choices (the less loaded of two random nodes); the last two register activations in the activation directory.")
    var placement: String = "hash"

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
        // Before any layer creates its instruments: the gateway's /metrics exports them all.
        if http != nil { LocalityMetrics.bootstrap() }
        var logger = Logger(label: "locality.node")
        logger[metadataKey: "node"] = "\(name)"
        let uid = UInt64.random(in: 1...UInt64.max)
        let host = try await startActorHost(id: NodeID(name: name, uid: uid), bind: address, keyring: keyring, logger: logger)
        let node: GossipMembership
        do {
            node = try GossipMembership(
                name: name, address: address, seeds: seedAddresses, keyring: keyring,
                metadata: gossipMetadata(transport: host.transportAddress), swim: swim, uid: uid,
                logger: Logger(label: "locality.gossip"))
        } catch {
            await host.close()
            throw error
        }
        let feed = host.follow(node)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: node), .init(service: host)]
        if let gateway = try gatewayService(host: host, gossip: node, joining: !seedAddresses.isEmpty, logger: logger) {
            services.append(.init(service: gateway))
        }
        logger.info("node started", metadata: [
            "gossip": "\(address)", "transport": "\(host.transportAddress)", "http": "\(http ?? "off")",
        ])
        // Graceful shutdown runs in reverse order: the gateway stops, the actors
        // deactivate, then gossip leaves.
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch {
            feed.cancel()
            await host.close()
            throw error
        }
        feed.cancel()
        await host.close()
        logger.info("node stopped")
    }

    /// Builds the actor runtime: store, system, router, transport.
    private func startActorHost(id: NodeID, bind: NodeAddress, keyring: ClusterKeyring, logger: Logger) async throws -> ActorHost {
        let transportAddress: NodeAddress
        if let transport {
            guard let parsed = ListenAddress.parse(transport) else { throw ValidationError("--transport must be host:port, got \(transport)") }
            transportAddress = parsed
        } else {
            guard bind.port + 1000 <= 65_535 else { throw ValidationError("--bind port + 1000 is not a port: pass --transport") }
            transportAddress = NodeAddress(host: bind.host, port: bind.port + 1000)
        }
        var settings = ActorSettings()
        if let idleTimeoutS { settings.idleTimeout = .seconds(try positive(idleTimeoutS, "--idle-timeout-s")) }
        if let maxActivations { settings.maxActivations = try positive(maxActivations, "--max-activations") }
        // Two-choices draws from a stream seeded with this node's uid (random per start).
        guard ["hash", "prefer-local", "two-choices"].contains(placement), let mode = ActorPlacement(name: placement) else {
            throw ValidationError("--placement must be hash, prefer-local or two-choices, got \(placement)")
        }
        settings.placement = mode
        settings.collectionQuantum = min(settings.collectionQuantum, max(.seconds(1), settings.idleTimeout / 4))
        let directory = dataDir ?? "./locality-data/\(name)"
        let (stateStore, location) = try await NodeStoreOption.open(store, dataDirectory: directory, logger: Logger(label: "locality.storage"))
        logger.info("state store open", metadata: ["store": "\(location)"])
        do {
            let clusterKey = keyring.primary.withUnsafeBytes { Array($0) }
            return try await ActorHost.start(
                id: id, clusterKey: clusterKey, transport: transportAddress, store: stateStore, settings: settings, logger: logger)
        } catch {
            try? await stateStore.close()
            throw error
        }
    }

    /// The HTTP gateway over this node's actors and views, when `--http` asks for one.
    private func gatewayService(host: ActorHost, gossip: GossipMembership, joining: Bool, logger: Logger) throws -> (any Service)? {
        guard let http else { return nil }
        guard let address = ListenAddress.parse(http) else { throw ValidationError("--http must be host:port, got \(http)") }
        let resolver = host.resolver
        let system = host.system
        let context = GatewayContext(
            invoker: system,
            localNode: host.id,
            // Ready once the ring holds this node and, when it joins through seeds, another one.
            isReady: { resolver.members.count >= (joining ? 2 : 1) },
            members: { await gossip.members() },
            ring: resolver,
            activations: { system.activeIDs.map { GatewayActivation(kind: $0.kind, key: $0.key) } })
        var settings = GatewaySettings(host: address.host, port: address.port)
        if let httpMaxConnections { settings.maxConnections = try positive(httpMaxConnections, "--http-max-connections") }
        if let httpIdleTimeoutS { settings.idleTimeout = .seconds(try positive(httpIdleTimeoutS, "--http-idle-timeout-s")) }
        let server = GatewayServer(settings: settings, context: context,
                                   logger: Logger(label: "locality.gateway"))
        return server.makeApplication { port in
            logger.info("HTTP gateway listening", metadata: ["http": "\(address.host):\(port)"])
        }
    }

    /// `transport=host:port` (and `http=host:port` with a gateway), then the operator's `--metadata` pairs.
    private func gossipMetadata(transport: NodeAddress) -> [UInt8] {
        // The gateway's address (when its port is fixed) lets dashboards reach every node.
        let gateway = http.flatMap(NodeAddress.init(parsing:))  // a port-0 address does not parse
        let advertised = MembershipRingFeed.metadata(transport: transport, extra: gateway.map { ["http": "\($0)"] } ?? [:])
        return metadata.isEmpty ? advertised : advertised + Array(",\(metadata)".utf8)
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

/// The end of standard input as a signal: a parent that starts `locality` children keeps
/// the write end of their stdin open, so when it is done (or dies) they see EOF.
enum StdinWatch {
    /// Turns EOF into a graceful shutdown (SIGTERM to ourselves, which the ServiceGroup
    /// answers by leaving the cluster): when the parent dies, so does the node.
    static func leaveOnEOF() {
        Thread.detachNewThread {
            blockUntilEOF()
            kill(getpid(), SIGTERM)
        }
    }

    /// Returns once standard input reaches its end (the bench servers' way to stop).
    static func waitForEOF() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                blockUntilEOF()
                continuation.resume()
            }
        }
    }

    /// Reads and drops standard input on the calling thread until EOF or an error.
    private static func blockUntilEOF() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if count == 0 || (count < 0 && errno != EINTR) { return }
        }
    }
}
