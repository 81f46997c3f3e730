import Foundation
import LocalityActors
import LocalityCore
import LocalityGateway
import LocalityMembership
import LocalityPlacement
import LocalityRouting
import LocalityStorage
import LocalityTransport
import Logging
import ServiceLifecycle

/// A Locality node built from a `NodeConfiguration` and the actor kinds a program hosts:
/// gossip membership (SWIM + Lifeguard), the node transport, the handle-or-forward router
/// fed by the ring, a `ClusterSystem` on the configured state store, and optionally the
/// HTTP gateway. It runs as one swift-service-lifecycle `Service`.
///
/// ```swift
/// let configuration = try await NodeConfiguration.load(file: "node.yaml")
/// let node = try await LocalityNode.start(configuration, kinds: [
///     ActorKind(Cart.self, name: "cart") { id, system in Cart(actorSystem: system, id: id) },
/// ])
/// let group = ServiceGroup(services: [node], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// try await group.run()
/// ```
///
/// Typed calls from Swift go through `actor(_:id:)`: the reference is routed to the
/// actor's owner, wherever in the cluster that is.
///
/// Lifecycle: `start` opens the store, binds the transport and checks the kinds (nothing
/// listens for gossip or HTTP yet); `run` joins the cluster and serves until graceful
/// shutdown, which drains in order: the gateway stops (finishing accepted requests), the
/// actors deactivate (each flushes its state), the node leaves the cluster, then the
/// transport stops and the store closes. A node runs once; if `run` is never called,
/// call `close()`.
public final class LocalityNode: Service, Sendable {
    /// The configuration the node started with.
    public let configuration: NodeConfiguration
    /// This node's id (its name and a random uid per start).
    public let id: NodeID
    /// The virtual-actor runtime: typed references, activation counts, the state store.
    public var system: ClusterSystem { host.system }
    /// The gossip member (its view: `membership.members()`).
    public let membership: GossipMembership
    /// The cluster keys in force, replaced when `configuration.keyringFile` changes.
    public var clusterKeys: SharedClusterKeyring { membership.clusterKeys }
    /// Where the node transport listens (its real port when configured with port 0).
    public var transportAddress: NodeAddress { host.transportAddress }
    /// The HTTP gateway, when configured (its real port: `gateway?.boundPort`).
    public let gateway: GatewayServer?
    /// The identity of this node's store (`StoreIdentity`), gossiped as `store=` in its
    /// metadata: only members on the same store share keys.
    public let storeIdentity: String
    let host: ActorHost
    private let logger: Logger

    private init(
        configuration: NodeConfiguration, id: NodeID, storeIdentity: String, host: ActorHost, membership: GossipMembership,
        gateway: GatewayServer?, logger: Logger
    ) {
        self.configuration = configuration
        self.id = id
        self.storeIdentity = storeIdentity
        self.host = host
        self.membership = membership
        self.gateway = gateway
        self.logger = logger
    }

    /// How long after its start a node that joined through seeds refuses to join when a
    /// live member is on another store (see `StoreIdentityGuard`).
    public static let storeCheckWindow: Duration = .seconds(15)

    /// Opens the store, registers `kinds`, binds the transport and builds the gossip
    /// member and the gateway. Throws `LocalityError(.badRequest)` for kinds that cannot be
    /// hosted together (a name twice, a name a gateway path cannot carry), and the store's
    /// or socket's error when those fail; nothing stays open after a throw.
    ///
    /// With a gateway configured, `LocalityMetrics.bootstrap()` installs the Prometheus
    /// export of swift-metrics (once per process) unless `bootstrapMetrics` is false, for
    /// a program that bootstraps its own metrics backend first.
    public static func start(
        _ configuration: NodeConfiguration, kinds: [ActorKind], bootstrapMetrics: Bool = true,
        logger: Logger = Logger(label: "locality.node")
    ) async throws -> LocalityNode {
        if let problem = ActorKind.problem(with: kinds) { throw LocalityError(.badRequest, problem) }
        // Before any layer creates its instruments: the gateway's /metrics exports them all.
        if configuration.http != nil, bootstrapMetrics { LocalityMetrics.bootstrap() }
        var logger = logger
        logger[metadataKey: "node"] = "\(configuration.name)"
        let id = NodeID(name: configuration.name, uid: UInt64.random(in: 1...UInt64.max))
        // One keyring for gossip and (once NodeTransport takes a ClusterKeyProof, see
        // ClusterKeyProof(following:)) the transport handshake, replaced when the key file changes.
        let clusterKeys = SharedClusterKeyring(configuration.keyring)
        let store = try await openStore(configuration, logger: logger)
        let storeIdentity: String
        let host: ActorHost
        do {
            storeIdentity = configuration.storeInForce == .memory ? StoreIdentity.memory : try await StoreIdentity.establish(in: store)
            (store as? StoreAvailability)?.expectIdentity(storeIdentity)
            host = try await ActorHost.start(
                id: id, proofs: ClusterKeyProof(following: clusterKeys), transport: try configuration.transportAddress(),
                tls: configuration.transportTLS, store: store,
                settings: configuration.actors, ring: RingSettings(algorithm: configuration.ring), kinds: kinds, logger: logger)
        } catch {
            try? await store.close()
            throw error
        }
        do {
            let membership = try GossipMembership(
                name: configuration.name, address: configuration.bind, seeds: configuration.seeds,
                keys: clusterKeys,
                metadata: gossipMetadata(configuration, transport: host.transportAddress, storeIdentity: storeIdentity),
                swim: configuration.swim, uid: id.uid,
                logger: Logger(label: "locality.gossip"))
            let gateway = configuration.http.map { makeGateway($0, configuration: configuration, host: host, membership: membership) }
            return LocalityNode(
                configuration: configuration, id: id, storeIdentity: storeIdentity, host: host, membership: membership, gateway: gateway,
                logger: logger)
        } catch {
            await host.close()
            throw error
        }
    }

    /// A typed reference to the actor `id` of `type`'s kind, routed to its owner. No
    /// network call and no activation happen here: the first call activates it.
    public func actor<A: VirtualActor>(_ type: A.Type, id: String) throws -> A {
        try system.actor(type, id: id)
    }

    /// Joins the cluster and serves until graceful shutdown (then drains, see the type's
    /// doc) or cancellation; closes the transport and the store before returning.
    public func run() async throws {
        let feed = host.follow(membership, storeIdentity: storeIdentity)
        let storeGuard = StoreIdentityGuard(
            localNode: id, storeIdentity: storeIdentity, storeLocation: "\(configuration.storeInForce)", ringAlgorithm: configuration.ring,
            membership: membership,
            refusesToJoin: !configuration.seeds.isEmpty, joinWindow: Self.storeCheckWindow, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: membership), .init(service: storeGuard), .init(service: host),
        ]
        if let keyFile = configuration.keyringFile {
            services.append(.init(service: ClusterKeyFileWatcher(path: keyFile, keyring: membership.clusterKeys)))
        }
        if let gateway {
            let logger = logger
            let address = configuration.http
            let auth = Self.describe(configuration.httpAuth)
            let tls = configuration.httpTLS != nil
            services.append(.init(service: gateway.makeApplication { port in
                logger.info("HTTP gateway listening", metadata: [
                    "http": "\(address?.host ?? ""):\(port)", "tls": "\(tls ? "on" : "off")", "auth": "\(auth)",
                ])
            }))
        }
        logger.info("node started", metadata: [
            "gossip": "\(configuration.bind)", "transport": "\(host.transportAddress)",
            "http": "\(configuration.http.map { "\($0)" } ?? "off")", "store": "\(configuration.storeInForce)",
            "store_identity": "\(storeIdentity)",
        ])
        // Graceful shutdown runs in reverse order: the gateway stops, the actors
        // deactivate, then gossip leaves.
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
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

    /// Stops the transport and closes the store of a node that never ran.
    public func close() async {
        await host.close()
    }

    /// Opens the configured store; a PostgreSQL store (a server that can go away) is
    /// wrapped in `StoreAvailability`, so an outage fails writes and activations fast with
    /// `storage_unavailable` while live activations keep serving reads.
    private static func openStore(_ configuration: NodeConfiguration, logger: Logger) async throws -> any StateStore {
        let location = configuration.storeInForce
        if case .sqlite(let path) = location {
            let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        }
        let storageLogger = Logger(label: "locality.storage")
        var store = try await location.open(logger: storageLogger)
        if case .postgres = location { store = StoreAvailability(store, logger: storageLogger) }
        logger.info("state store open", metadata: ["store": "\(location)"])
        return store
    }

    /// `transport=host:port`, `store=<identity>`, `ring=<algorithm>` (and `http=host:port` with a fixed
    /// gateway port), then the configured metadata pairs.
    private static func gossipMetadata(_ configuration: NodeConfiguration, transport: NodeAddress, storeIdentity: String) -> [UInt8] {
        var extra = [MembershipRingFeed.storeKey: storeIdentity, MembershipRingFeed.ringKey: configuration.ring.rawValue]
        // The gateway's address (when its port is fixed) lets dashboards reach every node.
        // A wildcard listen address advertises the node's own host instead.
        if let gateway = configuration.http, gateway.port != 0 {
            let wildcard = gateway.host == "0.0.0.0" || gateway.host == "::" || gateway.host == "[::]"
            extra[MembershipRingFeed.gatewayKey] = wildcard ? "\(NodeAddress(host: configuration.bind.host, port: gateway.port))" : "\(gateway)"
        }
        let advertised = MembershipRingFeed.metadata(transport: transport, extra: extra)
        return configuration.metadata.isEmpty ? advertised : advertised + Array(",\(configuration.metadata)".utf8)
    }

    /// The gateway's authentication for the start log: `off`, or its token sources (never a token).
    static func describe(_ auth: GatewayAuthSettings?) -> String {
        guard let auth else { return "off" }
        var parts: [String] = []
        if !auth.tokens.isEmpty { parts.append("\(auth.tokens.count) static tokens") }
        if let jwt = auth.jwt { parts.append("JWT \(jwt.algorithms.joined(separator: ","))") }
        return parts.joined(separator: " + ")
    }

    private static func makeGateway(
        _ address: NodeAddress, configuration: NodeConfiguration, host: ActorHost, membership: GossipMembership
    ) -> GatewayServer {
        let resolver = host.resolver
        let system = host.system
        let joining = !configuration.seeds.isEmpty
        let availability = host.store as? StoreAvailability
        let context = GatewayContext(
            invoker: system,
            localNode: host.id,
            // Ready once the ring holds this node and, when it joins through seeds, another
            // one, while its store answers.
            isReady: { resolver.members.count >= (joining ? 2 : 1) && availability?.isAvailable != false },
            members: { await membership.members() },
            ring: resolver,
            activations: { system.activeIDs.map { GatewayActivation(kind: $0.kind, key: $0.key) } })
        var settings = GatewaySettings(host: address.host, port: address.port)
        settings.maxConnections = configuration.httpMaxConnections
        settings.idleTimeout = configuration.httpIdleTimeout
        settings.auth = configuration.httpAuth
        settings.tls = configuration.httpTLS
        return GatewayServer(settings: settings, context: context, logger: Logger(label: "locality.gateway"))
    }
}
