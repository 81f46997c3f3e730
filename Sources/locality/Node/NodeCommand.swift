import ArgumentParser
import Foundation
import LocalityExamples
import LocalityServer
import LocalityCore
import Logging
import ServiceLifecycle

/// `locality node`: runs one cluster node hosting the example kinds (`counter`,
/// `player`) until SIGTERM/SIGINT. A thin shell over `LocalityNode`: the flags, the
/// `LOCALITY_…` environment and `--config FILE` become a `NodeConfiguration`
/// (`NodeConfiguration.load`), and the node runs in a `ServiceGroup` that drains on
/// SIGTERM/SIGINT (gateway, actors, gossip leave, transport, store; exit 0).
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run a cluster node: SWIM gossip membership and virtual actors.",
        discussion: """
            Every setting is a flag, an environment variable (LOCALITY_ and the flag in upper \
            case, dashes as underscores: --probe-interval-ms is LOCALITY_PROBE_INTERVAL_MS) and \
            a key of the --config file (JSON, or YAML: probe-interval-ms: 500). Flags override \
            the environment, which overrides the file.
            """)

    @Option(help: "JSON (.json) or YAML configuration file; keys are the flag names without dashes.")
    var config: String?

    @Option(help: "Node name, unique among live members (required).")
    var name: String?

    @Option(help: "host:port to listen on (UDP and TCP) and advertise (required).")
    var bind: String?

    @Option(help: "Comma-separated host:port of members to join through.")
    var seeds: String?

    @Option(help: "File with the cluster key (hex or base64, ≥ 16 bytes; optional second line: an accepted old key).")
    var clusterKeyFile: String?

    @Option(help: "The cluster key itself (prefer LOCALITY_CLUSTER_KEY or a file: a flag shows in ps).")
    var clusterKey: String?

    @Option(help: "Metadata gossiped with this member (UTF-8 text, key=value pairs).")
    var metadata: String?

    @Option(help: "SWIM probe interval in milliseconds (default 1000).")
    var probeIntervalMs: String?

    @Option(help: "SWIM probe timeout in milliseconds (default 500).")
    var probeTimeoutMs: String?

    @Option(help: "Gossip interval in milliseconds (default 200).")
    var gossipIntervalMs: String?

    @Option(help: "Suspicion multiplier (default 1).")
    var suspicionMult: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default info).")
    var logLevel: String?

    @Option(help: "host:port of the node transport (actor calls between nodes); port 0 picks one. Default: the --bind host, its port + 1000.")
    var transport: String?

    @Option(help: "host:port of the HTTP gateway (POST /v1/actors/{type}/{id}/{method}, /v1/cluster/…, /healthz); port 0 picks one. Default: no gateway.")
    var http: String?

    @Option(help: "Most open HTTP connections; more are closed on accept (default 16384).")
    var httpMaxConnections: String?

    @Option(help: "Seconds an HTTP connection may stay idle or take to send a request head (default 30).")
    var httpIdleTimeoutS: String?

    @Option(name: .customLong("http-tls-cert"), help: "PEM certificate (chain) for HTTPS on the gateway, with --http-tls-key. Default: plain HTTP.")
    var httpTLSCert: String?

    @Option(name: .customLong("http-tls-key"), help: "PEM private key of --http-tls-cert.")
    var httpTLSKey: String?

    @Option(name: .customLong("http-tokens-file"), help: "JSON or YAML file of gateway bearer tokens (by SHA-256), their actor kinds and admin right: turns client authentication on (docs/gateway.md).")
    var httpTokensFile: String?

    @Option(name: .customLong("http-jwt-hmac-secret-file"), help: "File with the HS256 secret of gateway JWTs: turns client authentication on.")
    var httpJWTHMACSecretFile: String?

    @Option(name: .customLong("http-jwt-public-key-file"), help: "PEM public key (ES256 or RS256) of gateway JWTs: turns client authentication on.")
    var httpJWTPublicKeyFile: String?

    @Option(name: .customLong("http-jwt-issuer"), help: "The iss gateway JWTs must carry (default: any).")
    var httpJWTIssuer: String?

    @Option(name: .customLong("http-jwt-audience"), help: "An aud gateway JWTs must carry (default: any).")
    var httpJWTAudience: String?

    @Option(help: "Where actor state lives: memory, sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE[?table=NAME]. Default: sqlite:<data-dir>/state.sqlite.")
    var store: String?

    @Option(help: "Directory of this node's files. Default: ./locality-data/<name>.")
    var dataDir: String?

    @Option(help: "Seconds an actor may stay idle before it is deactivated (default 900).")
    var idleTimeoutS: String?

    @Option(help: "Most live activations on this node; past it the least recently used idle one is evicted (default 1000000).")
    var maxActivations: String?

    @Option(help: "Where a new actor is activated: hash (its ring owner, no directory), prefer-local (the calling node) or two-choices (the less loaded of two random nodes); the last two register activations in the activation directory.")
    var placement: String?

    @Option(help: "How keys map to members: buckets (rendezvous hashing over 2^18 buckets) or vnodes (the former ring of virtual nodes). Default buckets; every member must use the same.")
    var ring: String?

    @Option(help: "Seconds an actor remembers a call's Idempotency-Key (default 600).")
    var idempotencyWindowS: String?

    @Option(help: "Most idempotency keys one actor remembers, the oldest forgotten first (default 128).")
    var idempotencyKeysPerActor: String?

    @Option(help: "PEM certificate (chain) of this node, signed by the cluster CA: mutual TLS between nodes, with --tls-key and --tls-ca. Default: plain TCP.")
    var tlsCert: String?

    @Option(help: "PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(help: "PEM bundle of the CA certificates a peer's certificate must be signed by.")
    var tlsCA: String?

    @Option(help: "Seconds between reads of --tls-cert and --tls-key, so a renewed pair needs no restart (default 30).")
    var tlsReloadIntervalS: String?

    @Flag(help: "Leave the cluster and exit when standard input closes (a parent process that starts nodes keeps it open, so its children never outlive it).")
    var exitOnStdinEOF = false

    /// The flags given, by configuration key.
    var flags: [String: String] {
        let given: [(NodeSettingKey, String?)] = [
            (.nodeName, name), (.bind, bind), (.seeds, seeds), (.clusterKeyFile, clusterKeyFile), (.clusterKey, clusterKey),
            (.metadata, metadata), (.logLevel, logLevel), (.probeIntervalMs, probeIntervalMs), (.probeTimeoutMs, probeTimeoutMs),
            (.gossipIntervalMs, gossipIntervalMs), (.suspicionMult, suspicionMult), (.transport, transport), (.http, http),
            (.httpMaxConnections, httpMaxConnections), (.httpIdleTimeoutS, httpIdleTimeoutS), (.store, store), (.dataDir, dataDir),
            (.idleTimeoutS, idleTimeoutS), (.maxActivations, maxActivations), (.placement, placement),
            (.ring, ring), (.idempotencyWindowS, idempotencyWindowS),
            (.httpTLSCert, httpTLSCert), (.httpTLSKey, httpTLSKey), (.httpTokensFile, httpTokensFile),
            (.httpJWTHMACSecretFile, httpJWTHMACSecretFile), (.httpJWTPublicKeyFile, httpJWTPublicKeyFile),
            (.httpJWTIssuer, httpJWTIssuer), (.httpJWTAudience, httpJWTAudience), (.idempotencyKeysPerActor, idempotencyKeysPerActor),
            (.tlsCert, tlsCert), (.tlsKey, tlsKey), (.tlsCA, tlsCA), (.tlsReloadIntervalS, tlsReloadIntervalS),
        ]
        return Dictionary(uniqueKeysWithValues: given.compactMap { key, value in value.map { (key.name, $0) } })
    }

    func run() async throws {
        let configuration: NodeConfiguration
        do {
            configuration = try await NodeConfiguration.load(flags: flags, file: config)
        } catch {
            throw ValidationError(error.description)
        }
        if exitOnStdinEOF { StdinWatch.leaveOnEOF() }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = configuration.logLevel
            return DeferredMetadataLogHandler(handler)
        }
        var logger = Logger(label: "locality.node")
        logger[metadataKey: "node"] = "\(configuration.name)"
        let node = try await LocalityNode.start(configuration, kinds: ExampleKinds.all, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: node)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
