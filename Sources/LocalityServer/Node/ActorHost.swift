import LocalityActors
import LocalityCore
import LocalityMembership
import LocalityPlacement
import LocalityRouting
import LocalityStorage
import LocalityTransport
import Logging
import ServiceLifecycle

/// The virtual-actor side of a `LocalityNode`: node transport, handle-or-forward router,
/// a ring fed by gossip (`MembershipRingFeed`: members advertise `transport=host:port`
/// in their metadata) and a `ClusterSystem` hosting the program's kinds, on one state store.
///
/// Lifecycle: `start` binds the transport (so the gossip metadata can carry its real
/// port); `follow(_:)` feeds the ring from gossip; as a `Service`, `run` waits for the
/// graceful shutdown and then deactivates every activation (each flushes its state);
/// `close` afterwards stops the transport and closes the store.
final class ActorHost: Service, Sendable {
    let id: NodeID
    let system: ClusterSystem
    let router: Router
    let resolver: RingOwnerResolver
    let transport: NodeTransport
    let transportAddress: NodeAddress
    let store: any StateStore
    private let logger: Logger

    private init(
        id: NodeID, system: ClusterSystem, router: Router, resolver: RingOwnerResolver, transport: NodeTransport,
        transportAddress: NodeAddress, store: any StateStore, logger: Logger
    ) {
        self.id = id
        self.system = system
        self.router = router
        self.resolver = resolver
        self.transport = transport
        self.transportAddress = transportAddress
        self.store = store
        self.logger = logger
    }

    /// Builds the runtime on `store` and binds the transport at `transport` (port 0: any).
    static func start(
        id: NodeID, proofs: ClusterKeyProof, transport bindAddress: NodeAddress, tls: TransportTLSSettings? = nil, store: any StateStore,
        settings: ActorSettings, ring: RingSettings = RingSettings(), kinds: [ActorKind], logger: Logger
    ) async throws -> ActorHost {
        let system = ClusterSystem(node: id, settings: settings, stateStore: store, logger: Logger(label: "locality.actors"))
        for kind in kinds { try kind.register(system) }
        let resolver = RingOwnerResolver(settings: ring)
        let router = Router(local: id, resolver: resolver, addresses: resolver, handler: system.callHandler)
        // Directory-backed placement: the transport also serves this node's directory partition.
        let directory = settings.placement.usesDirectory
            ? DirectoryService(local: id, ring: resolver.ring, addresses: resolver, onConflict: system.directoryConflictHandler) : nil
        let handler: any TransportHandler = directory.map { TransportServiceMux(router: router, directory: $0) } ?? router
        var transportSettings = TransportSettings()
        transportSettings.tls = tls
        let transport = NodeTransport(
            identity: id, proofs: proofs, settings: transportSettings, handler: handler, logger: Logger(label: "locality.transport"))
        router.attach(transport)
        directory?.attach(transport)
        if let directory {
            system.attach(router: router, resolver: resolver, directory: directory)
        } else {
            system.attach(router: router, resolver: resolver)
        }
        let bound = try await transport.bind(host: bindAddress.host, port: bindAddress.port)
        return ActorHost(id: id, system: system, router: router, resolver: resolver, transport: transport,
                         transportAddress: bound, store: store, logger: logger)
    }

    /// Keeps the ring in step with `gossip` until the task is cancelled; members on
    /// another store than `storeIdentity`, or with another ring algorithm than this node's,
    /// never enter it.
    func follow(_ gossip: GossipMembership, storeIdentity: String) -> Task<Void, Never> {
        let resolver = resolver
        let logger = logger
        let system = system
        return Task {
            let watch = Task {
                for await ring in resolver.rings() {
                    logger.info("ring changed", metadata: ["members": "\(ring.members.map(\.name).sorted())"])
                }
            }
            let directory = system.followDirectory(resolver)
            await MembershipRingFeed.run(
                provider: gossip, resolver: resolver, storeIdentity: storeIdentity, ringAlgorithm: resolver.settings.algorithm.rawValue)
            watch.cancel()
            directory?.cancel()
        }
    }

    /// Waits for the graceful shutdown, then deactivates every activation.
    func run() async throws {
        try? await gracefulShutdown()
        logger.info("deactivating activations", metadata: ["live": "\(system.activationCount)"])
        await system.shutdown(grace: .seconds(5))
        logger.info("activations deactivated")
    }

    /// Stops the transport and closes the store (after the node left the cluster).
    func close() async {
        await transport.shutdown()
        do {
            try await store.close()
        } catch {
            logger.error("closing the state store failed: \(error)")
        }
    }
}
