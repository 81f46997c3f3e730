/// One setting of a node, under one name everywhere: the configuration key in a JSON or
/// YAML file (`probe-interval-ms`), the command-line flag (`--probe-interval-ms`) and the
/// environment variable (`LOCALITY_PROBE_INTERVAL_MS`).
///
/// Precedence, highest first: flags, then environment variables, then the file, then the
/// default. `NodeSettingKey.all` is the whole list; the configuration file may hold no
/// other key (a misspelled key stops the node at start).
public struct NodeSettingKey: Sendable, Hashable, CustomStringConvertible {
    /// How a setting's value is written.
    public enum ValueType: String, Sendable, Hashable {
        /// Text.
        case string
        /// A whole number.
        case int
        /// A number with an optional fraction.
        case double
        /// A list: an array in a file, comma-separated in a flag or an environment variable.
        case stringList = "list"
    }

    /// The key in a configuration file, and the long flag without its dashes.
    public let name: String
    /// How its value is written.
    public let type: ValueType
    /// What values are allowed, and the default (shown in errors and in the docs).
    public let allowed: String
    /// Whether the value is a secret (never logged).
    public let isSecret: Bool

    init(_ name: String, _ type: ValueType, _ allowed: String, secret: Bool = false) {
        self.name = name
        self.type = type
        self.allowed = allowed
        self.isSecret = secret
    }

    /// The command-line flag: `--` and the key.
    public var flag: String { "--\(name)" }

    /// The environment variable: `LOCALITY_` and the key in upper case, dashes as underscores.
    public var environmentVariable: String {
        "LOCALITY_" + name.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
    }

    /// The key's name, as in a configuration file.
    public var description: String { name }
}

extension NodeSettingKey {
    // Identity and membership.
    /// This node's name, unique among live members. Required.
    public static let nodeName = NodeSettingKey("name", .string, "1…255 UTF-8 bytes; required")
    /// host:port to listen on for gossip (UDP and TCP), advertised to peers. Required.
    public static let bind = NodeSettingKey("bind", .string, "host:port with a port in 1…65535; required")
    /// Members to join through.
    public static let seeds = NodeSettingKey("seeds", .stringList, "a list of host:port (default: none, a cluster of one)")
    /// File holding the cluster key.
    public static let clusterKeyFile = NodeSettingKey(
        "cluster-key-file", .string, "a readable file with one or two keys, hex or base64, 16…1024 bytes each; this or cluster-key is required")
    /// The cluster key itself (for a secret passed as an environment variable).
    public static let clusterKey = NodeSettingKey(
        "cluster-key", .string, "one key, hex or base64, 16…1024 bytes; this or cluster-key-file is required", secret: true)
    /// Metadata gossiped with this member.
    public static let metadata = NodeSettingKey("metadata", .string, "UTF-8 text, key=value pairs separated by commas (default: empty)")
    /// Log level of the `locality` executable.
    public static let logLevel = NodeSettingKey("log-level", .string, "trace, debug, info, notice, warning, error or critical (default: info)")

    // SWIM.
    /// SWIM probe interval.
    public static let probeIntervalMs = NodeSettingKey("probe-interval-ms", .int, "milliseconds, a whole number ≥ 1 (default: 1000)")
    /// SWIM probe timeout.
    public static let probeTimeoutMs = NodeSettingKey("probe-timeout-ms", .int, "milliseconds, a whole number ≥ 1 (default: 500)")
    /// Gossip interval.
    public static let gossipIntervalMs = NodeSettingKey("gossip-interval-ms", .int, "milliseconds, a whole number ≥ 1 (default: 200)")
    /// Lifeguard suspicion multiplier.
    public static let suspicionMult = NodeSettingKey("suspicion-mult", .double, "a number > 0 (default: 1)")

    // Transport, gateway, store.
    /// Node transport address.
    public static let transport = NodeSettingKey(
        "transport", .string, "host:port, port 0 picks one (default: the bind host, its port + 1000)")
    /// HTTP gateway address.
    public static let http = NodeSettingKey("http", .string, "host:port, port 0 picks one (default: no gateway)")
    /// Most open HTTP connections.
    public static let httpMaxConnections = NodeSettingKey("http-max-connections", .int, "a whole number ≥ 1 (default: 16384)")
    /// HTTP idle timeout.
    public static let httpIdleTimeoutS = NodeSettingKey("http-idle-timeout-s", .int, "seconds, a whole number ≥ 1 (default: 30)")
    /// The gateway's HTTPS certificate chain.
    public static let httpTLSCert = NodeSettingKey(
        "http-tls-cert", .string, "a readable PEM certificate chain file, the server's certificate first; with http-tls-key (default: none, plain HTTP)")
    /// The gateway's HTTPS private key.
    public static let httpTLSKey = NodeSettingKey(
        "http-tls-key", .string, "a readable PEM private key file matching http-tls-cert; with http-tls-cert (default: none, plain HTTP)")
    /// Static bearer tokens of the gateway.
    public static let httpTokensFile = NodeSettingKey(
        "http-tokens-file", .string, "a readable JSON or YAML file listing tokens by SHA-256 (default: none; with no token source the gateway answers everyone)")
    /// HS256 secret for gateway JWTs.
    public static let httpJWTHMACSecretFile = NodeSettingKey(
        "http-jwt-hmac-secret-file", .string, "a readable file whose text (trailing newlines dropped) is the HS256 secret, ≥ 32 bytes (default: none)")
    /// Public key for gateway JWTs.
    public static let httpJWTPublicKeyFile = NodeSettingKey(
        "http-jwt-public-key-file", .string, "a readable PEM public key file, EC P-256 (ES256) or RSA ≥ 2048 bits (RS256) (default: none)")
    /// Required JWT issuer.
    public static let httpJWTIssuer = NodeSettingKey("http-jwt-issuer", .string, "the iss gateway JWTs must carry (default: any)")
    /// Required JWT audience.
    public static let httpJWTAudience = NodeSettingKey("http-jwt-audience", .string, "an aud gateway JWTs must carry (default: any)")
    /// Where actor state lives.
    public static let store = NodeSettingKey(
        "store", .string, "memory, sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE[?table=NAME] (default: sqlite:<data-dir>/state.sqlite)",
        secret: true)
    /// This node's directory.
    public static let dataDir = NodeSettingKey("data-dir", .string, "a directory path (default: ./locality-data/<name>)")

    // Transport TLS.
    /// This node's transport certificate.
    public static let tlsCert = NodeSettingKey(
        "tls-cert", .string, "a PEM certificate (chain) file signed by the cluster CA; with tls-key and tls-ca (default: plain TCP)")
    /// The key of `tls-cert`.
    public static let tlsKey = NodeSettingKey("tls-key", .string, "the PEM private key file of tls-cert")
    /// The cluster CA bundle.
    public static let tlsCA = NodeSettingKey("tls-ca", .string, "a PEM file of the CA certificates whose signature a peer must show")
    /// How often the certificate and key are read again.
    public static let tlsReloadIntervalS = NodeSettingKey(
        "tls-reload-interval-s", .int, "seconds between reads of tls-cert and tls-key, a whole number ≥ 1 (default: 30)")

    // Actors.
    /// Idle time before deactivation.
    public static let idleTimeoutS = NodeSettingKey("idle-timeout-s", .int, "seconds, a whole number ≥ 1 (default: 900)")
    /// Most live activations.
    public static let maxActivations = NodeSettingKey("max-activations", .int, "a whole number ≥ 1 (default: 1000000)")
    /// How keys map to members.
    public static let ring = NodeSettingKey(
        "ring", .string, "buckets (rendezvous hashing over 2^18 buckets) or vnodes (the ring of 256 virtual nodes per member before it) (default: buckets); every member must use the same")
    /// Where a new activation goes.
    public static let placement = NodeSettingKey("placement", .string, "hash, prefer-local or two-choices (default: hash)")
    /// How long an actor remembers an idempotency key.
    public static let idempotencyWindowS = NodeSettingKey("idempotency-window-s", .int, "seconds, a whole number ≥ 1 (default: 600)")
    /// Most idempotency keys one actor remembers.
    public static let idempotencyKeysPerActor = NodeSettingKey(
        "idempotency-keys-per-actor", .int, "a whole number ≥ 1 (default: 128)")

    /// Every setting, in the order the docs list them.
    public static let all: [NodeSettingKey] = [
        nodeName, bind, seeds, clusterKeyFile, clusterKey, metadata, logLevel,
        probeIntervalMs, probeTimeoutMs, gossipIntervalMs, suspicionMult,
        transport, http, httpMaxConnections, httpIdleTimeoutS, httpTLSCert, httpTLSKey,
        httpTokensFile, httpJWTHMACSecretFile, httpJWTPublicKeyFile, httpJWTIssuer, httpJWTAudience, store, dataDir,
        tlsCert, tlsKey, tlsCA, tlsReloadIntervalS,
        idleTimeoutS, maxActivations, placement, ring, idempotencyWindowS, idempotencyKeysPerActor,
    ]

    /// The setting named `name`, nil for a name that is not a key.
    public static func named(_ name: String) -> NodeSettingKey? { all.first { $0.name == name } }
}
