import LocalityCore
import Logging
import Metrics
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A cluster member speaking SWIM + Lifeguard over UDP, with TCP for push-pull and
/// fallback probes (memberlist's transport model), encrypted and authenticated with the
/// keyring in force in a `SharedClusterKeyring` (see `PacketSeal`).
///
/// It owns one `SWIMCore` and runs it serialized on this actor: received packets and the
/// timer loop feed it `MonotonicClock` time, and its directives are executed in order.
/// Run it as a swift-service-lifecycle `Service`; graceful shutdown broadcasts `left`,
/// keeps gossiping for `GossipSettings.leaveGracePeriod`, then closes the sockets.
///
/// Bounds: inbound datagrams (NIO back pressure, 256), inbound TCP connections
/// (`maxInboundConnections`, extra ones closed), outgoing stream sends (`outboundStreamQueue`,
/// overflow fails the send), replay table (`replaySenders`), subscribers (`maxSubscribers`,
/// `subscriberBuffer` events each, oldest dropped on overflow — see `events()`).
public actor GossipMembership: MembershipProvider, Service {
    public nonisolated let localNode: NodeID
    /// Where this node listens (UDP and TCP) and what it advertises.
    public nonisolated let address: NodeAddress
    let settings: GossipSettings
    /// The keys every packet is sealed and opened with; replace its keyring to rotate.
    public nonisolated let clusterKeys: SharedClusterKeyring
    let seeds: [NodeAddress]
    let clock: any LocalityClock
    let group: any EventLoopGroup
    var logger: Logger
    let metrics: GossipMetrics
    let view: MemberView

    var core: SWIMCore
    var replay: ReplayGuard
    var sealCounter: UInt64 = 0
    var addresses = PeerAddressCache()
    nonisolated let inboundConnections: InboundConnections
    var hasLeft = false
    var hasRun = false
    var nextJoinAttempt: Timestamp = .zero
    let streamSends: AsyncStream<StreamSend>
    let streamSendQueue: AsyncStream<StreamSend>.Continuation
    let datagramSends: AsyncStream<GossipSockets.Datagram>
    let datagramSendQueue: AsyncStream<GossipSockets.Datagram>.Continuation
    /// The UDP socket in use (bound again when NIO closes it on a send error).
    nonisolated let udpSocket = DatagramSocketSlot()
    /// When a rebind of the UDP socket was last logged as a warning.
    var lastRebindWarning: ContinuousClock.Instant?
    /// Warnings about packets under an unknown key or seal version, at most one a minute.
    var keyWarnings = RateLimitedWarning(every: .seconds(60))

    /// An encoded envelope waiting for an outgoing connection (sealed once connected).
    struct StreamSend: Sendable {
        var payload: [UInt8]
        var address: NodeAddress
    }

    /// Creates a node. `uid` defaults to a random one (a restart is a new member; it must be
    /// fresh per process, since peers' replay windows remember its packet counters); the
    /// core's random source is seeded from the system RNG. Throws `badRequest` for a name
    /// or host the wire cannot carry (empty or over 255 UTF-8 bytes), a port outside
    /// 1…65535, or metadata over `SWIMSettings.maxMetadataBytes`.
    ///
    /// `keyring` is fixed for the node's life; pass a `SharedClusterKeyring` instead
    /// (`init(name:address:seeds:keys:…)`) to rotate keys while it runs.
    public init(
        name: String, address: NodeAddress, seeds: [NodeAddress], keyring: ClusterKeyring,
        metadata: [UInt8] = [], swim: SWIMSettings = SWIMSettings(), settings: GossipSettings = GossipSettings(),
        uid: UInt64 = UInt64.random(in: 1...UInt64.max), logger: Logger = Logger(label: "locality.gossip"),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, clock: any LocalityClock = MonotonicClock(),
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) throws {
        try self.init(
            name: name, address: address, seeds: seeds, keys: SharedClusterKeyring(keyring), metadata: metadata, swim: swim,
            settings: settings, uid: uid, logger: logger, group: group, clock: clock, metricsFactory: metricsFactory)
    }

    /// Creates a node that seals and opens every packet with the keyring in force in
    /// `keys` at that moment, so replacing it (`ClusterKeyFileWatcher`) rotates keys
    /// without a restart. Otherwise as `init(name:address:seeds:keyring:…)`.
    public init(
        name: String, address: NodeAddress, seeds: [NodeAddress], keys: SharedClusterKeyring,
        metadata: [UInt8] = [], swim: SWIMSettings = SWIMSettings(), settings: GossipSettings = GossipSettings(),
        uid: UInt64 = UInt64.random(in: 1...UInt64.max), logger: Logger = Logger(label: "locality.gossip"),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, clock: any LocalityClock = MonotonicClock(),
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) throws {
        guard (1...255).contains(name.utf8.count) else { throw LocalityError(.badRequest, "node name must be 1…255 UTF-8 bytes") }
        guard (1...255).contains(address.host.utf8.count), (1...65_535).contains(address.port) else {
            throw LocalityError(.badRequest, "bad listen address \(address)")
        }
        self.metrics = GossipMetrics(factory: metricsFactory)
        let id = NodeID(name: name, uid: uid)
        var systemRandom = SystemRandomNumberGenerator()
        self.localNode = id
        self.address = address
        self.settings = settings
        self.clusterKeys = keys
        self.seeds = seeds.filter { $0 != address }
        self.clock = clock
        self.group = group
        var logger = logger
        logger[metadataKey: "node"] = "\(name)"
        self.logger = logger
        self.core = try SWIMCore(
            id: id, address: address, metadata: metadata, settings: swim,
            random: SeededRandom(seed: systemRandom.next()), now: clock.now(), clockOffset: clock.wallClockOffset())
        self.replay = ReplayGuard(capacity: settings.replaySenders)
        self.inboundConnections = InboundConnections(capacity: settings.maxInboundConnections)
        self.view = MemberView(bufferSize: settings.subscriberBuffer, maxSubscribers: settings.maxSubscribers)
        (streamSends, streamSendQueue) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(settings.outboundStreamQueue))
        (datagramSends, datagramSendQueue) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(settings.outboundDatagramQueue))
        view.reset(core.members)
    }

    /// The current view, this node first.
    public func members() async -> [MemberState] { core.members }

    /// Packets and bytes this node sent and received so far (sealed sizes).
    public nonisolated var traffic: GossipTraffic { metrics.traffic.snapshot }

    /// Lifeguard local health score of this node (0 = healthy).
    public var localHealth: Int { core.localHealth }

    /// A subscription: every known member as `statusChanged(_, previous: nil)`, then every
    /// change. Each subscriber buffers `GossipSettings.subscriberBuffer` events; when a
    /// subscriber falls that far behind, its oldest events are dropped (counted in
    /// `locality_gossip_events_dropped_total`) and it should re-read `members()`.
    public nonisolated func events() -> AsyncStream<MembershipEvent> { view.subscribe() }

    /// Binds the sockets, joins through the seeds and runs until graceful shutdown (then
    /// leaves) or cancellation (then closes without leaving). Runs once per instance.
    public func run() async throws {
        guard !hasRun else { throw LocalityError(.internal, "a GossipMembership runs once; create a new one") }
        hasRun = true
        let datagrams = try await GossipSockets.bindDatagram(group: group, address: address, settings: settings)
        let streams: any Channel
        do {
            streams = try await GossipSockets.bindStream(
                group: group, address: address, settings: settings, connections: inboundConnections,
                serve: { [weak self] frame in await self?.receiveFrame(frame) ?? .close },
                onOverload: { [weak self] in Task { await self?.drop(.overloaded, transport: "tcp") } })
        } catch {
            try? await datagrams.executeThenClose { _, _ in }
            throw error
        }
        logger.info("gossip node listening", metadata: ["address": "\(address)", "seeds": "\(seeds)"])
        let ending = await withTaskGroup(of: Ending.self) { tasks in
            tasks.addTask { await self.serveDatagramsRebinding(datagrams) }
            tasks.addTask {
                await self.deliverDatagrams()
                return .cancelled
            }
            tasks.addTask {
                try? await streams.closeFuture.get()
                return Task.isCancelled ? .cancelled : .failed("TCP listener closed")
            }
            tasks.addTask {
                await self.deliverStreamSends()
                return .cancelled
            }
            tasks.addTask {
                await self.runTimers()
                return .cancelled
            }
            tasks.addTask {
                do {
                    try await gracefulShutdown()
                    return .shutdown
                } catch {
                    return .cancelled
                }
            }
            let first = await tasks.next() ?? .cancelled
            switch first {
            case .shutdown: await leave()
            case .cancelled: logger.info("gossip node cancelled; closing without leave")
            case .failed(let reason): logger.error("gossip node failed; closing", metadata: ["reason": "\(reason)"])
            }
            try? await streams.close()
            inboundConnections.closeAll()
            tasks.cancelAll()
            await udpSocket.close()
            streamSendQueue.finish()
            datagramSendQueue.finish()
            while await tasks.next() != nil {}
            return first
        }
        view.finishAll()
        logger.info("gossip node stopped")
        if case .failed(let reason) = ending { throw LocalityError(.unavailable, reason) }
    }

    /// Why `run` stops.
    enum Ending: Sendable {
        case shutdown
        case cancelled
        case failed(String)
    }

    /// Graceful leave (memberlist `Leave`): gossips `left`, keeps gossiping for the grace
    /// period so the leave reaches the others, then returns. Idempotent.
    public func leave() async {
        guard !hasLeft else { return }
        hasLeft = true
        logger.info("leaving the cluster")
        execute(core.leave(now: clock.now()))
        try? await Task.sleep(for: settings.leaveGracePeriod)
    }

    // MARK: - timers

    /// Ticks the core no later than `nextDeadline` (checked every `tickGranularity`, since a
    /// received packet can move the deadline earlier), and retries the join while no other
    /// member is known.
    func runTimers() async {
        while !Task.isCancelled {
            let now = clock.now()
            if !hasLeft, !seeds.isEmpty, core.liveMemberCount <= 1, now >= nextJoinAttempt {
                nextJoinAttempt = now + settings.joinRetryInterval
                logger.debug("joining", metadata: ["seeds": "\(seeds)"])
                execute(core.join(seeds: seeds, now: now))
            }
            if core.nextDeadline <= now {
                execute(core.tick(now: now))
                continue
            }
            let wait = min(core.nextDeadline - now, settings.tickGranularity)
            do {
                try await Task.sleep(for: wait)
            } catch {
                return
            }
        }
    }
}
