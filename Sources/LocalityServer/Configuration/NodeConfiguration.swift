import LocalityActors
import LocalityCore
import LocalityGateway
import LocalityMembership
import LocalityPlacement
import LocalityStorage
import LocalityTransport
import Logging

/// Everything a node needs to start, as one value: who it is, whom it joins, where it
/// listens, where state lives, and the bounds of its actors.
///
/// Build one in code, or read one from flags, environment variables and a file with
/// `NodeConfiguration.load(flags:environment:file:)`; every field maps to one
/// `NodeSettingKey`. Then pass it with the kinds to host to `LocalityNode.start`.
///
/// ```swift
/// var configuration = NodeConfiguration(name: "a", bind: NodeAddress(host: "127.0.0.1", port: 7001), keyring: keyring)
/// configuration.http = NodeAddress(host: "127.0.0.1", port: 8001)
/// configuration.store = .postgres(PostgresStoreLocation(...))
/// ```
public struct NodeConfiguration: Sendable {
    /// This node's name, unique among live members (`name`).
    public var name: String
    /// Where gossip listens (UDP and TCP) and what it advertises (`bind`).
    public var bind: NodeAddress
    /// Members to join through (`seeds`); empty starts a cluster of one.
    public var seeds: [NodeAddress] = []
    /// The cluster's shared secret (`cluster-key-file` or `cluster-key`), as at start.
    public var keyring: ClusterKeyring
    /// The key file `keyring` was read from (`cluster-key-file`), nil when the key came
    /// from `cluster-key`. A running node re-reads it every second and puts changed keys
    /// in force without a restart (`ClusterKeyFileWatcher`; rotation in docs/security.md).
    public var keyringFile: String?
    /// Metadata gossiped with this member, UTF-8 `key=value` pairs separated by commas
    /// (`metadata`); the node adds its own `transport=` and `http=` pairs in front.
    public var metadata: String = ""
    /// Log level the executable bootstraps swift-log with (`log-level`); the library
    /// itself does not bootstrap logging.
    public var logLevel: Logger.Level = .info
    /// SWIM and Lifeguard parameters (`probe-interval-ms`, `probe-timeout-ms`,
    /// `gossip-interval-ms`, `suspicion-mult`).
    public var swim = SWIMSettings()
    /// Where the node transport listens (`transport`); nil: the bind host, its port + 1000.
    /// Port 0 picks a free port.
    public var transport: NodeAddress?
    /// Where the HTTP gateway listens (`http`); nil: no gateway. Port 0 picks a free port.
    public var http: NodeAddress?
    /// Most open HTTP connections (`http-max-connections`).
    public var httpMaxConnections = 16_384
    /// How long an HTTP connection may stay idle (`http-idle-timeout-s`).
    public var httpIdleTimeout: Duration = .seconds(30)
    /// Bearer-token authentication of the gateway (`http-tokens-file`,
    /// `http-jwt-hmac-secret-file`, `http-jwt-public-key-file`, `http-jwt-issuer`,
    /// `http-jwt-audience`); nil: the gateway answers everyone.
    public var httpAuth: GatewayAuthSettings?
    /// HTTPS for the gateway (`http-tls-cert`, `http-tls-key`); nil: plain HTTP.
    public var httpTLS: GatewayTLSSettings?
    /// Where actor state lives (`store`); nil: `sqlite:<data-dir>/state.sqlite`.
    public var store: StateStoreLocation?
    /// How keys map to members (`ring`): rendezvous buckets by default. Members gossip it,
    /// and a member with another algorithm is kept off the ring (a joining node refuses to
    /// join), since the two would disagree on owners.
    public var ring: RingAlgorithm = .rendezvousBuckets
    /// Mutual TLS between nodes (`tls-cert`, `tls-key`, `tls-ca`, `tls-reload-interval-s`);
    /// nil: plain TCP, for loopback development (the node logs a notice at start).
    public var transportTLS: TransportTLSSettings?
    /// This node's files (`data-dir`); nil: `./locality-data/<name>`.
    public var dataDirectory: String?
    /// Activation bounds, idle timeout and placement (`idle-timeout-s`,
    /// `max-activations`, `placement`).
    public var actors = ActorSettings()

    /// A configuration with the required fields and every other one at its default.
    public init(name: String, bind: NodeAddress, keyring: ClusterKeyring) {
        self.name = name
        self.bind = bind
        self.keyring = keyring
    }

    /// The transport address in force: `transport`, else the bind host at port + 1000.
    public func transportAddress() throws(NodeConfigurationError) -> NodeAddress {
        if let transport { return transport }
        guard bind.port + 1000 <= 65_535 else {
            throw NodeConfigurationError(
                key: .transport, value: nil, source: nil,
                problem: "the default (bind port + 1000 = \(bind.port + 1000)) is not a port; set it")
        }
        return NodeAddress(host: bind.host, port: bind.port + 1000)
    }

    /// The data directory in force.
    public var dataDirectoryInForce: String { dataDirectory ?? "./locality-data/\(name)" }

    /// The store location in force.
    public var storeInForce: StateStoreLocation { store ?? .sqlite(path: "\(dataDirectoryInForce)/state.sqlite") }
}
