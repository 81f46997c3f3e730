import LocalityCore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import Tracing

/// The node-to-node transport: a TCP listener for inbound calls and one multiplexed,
/// authenticated connection per peer for outbound calls.
///
/// Frames, handshake and call header are described in docs/transport.md. Bounds come
/// from `TransportSettings`; hitting one gives the caller `overloaded` at once.
public final class NodeTransport: Sendable {
    /// Wire protocol version sent in the handshake.
    public static let protocolVersion: UInt8 = 1

    private enum PeerSlot {
        case connecting(EventLoopFuture<OutboundConnection>)
        case ready(OutboundConnection)
        case waiting(until: NIODeadline, error: LocalityError)
    }

    private struct State {
        var peers: [NodeAddress: PeerSlot] = [:]
        var backoff: [NodeAddress: ReconnectBackoff] = [:]
        var random: SeededRandom
        var inbound: [ObjectIdentifier: any Channel] = [:]
        var connectionCount = 0
        var listener: (any Channel)?
        var shuttingDown = false
    }

    /// This node.
    public let identity: NodeID
    /// This node's incarnation, sent in the handshake.
    public let incarnation: UInt64
    /// The bounds and timers in force.
    public let settings: TransportSettings
    private let proofs: ClusterKeyProof
    private let handler: any TransportHandler
    private let group: any EventLoopGroup
    private let metrics: TransportMetrics
    private let state: Mutex<State>
    private let logger: Logger
    /// The TLS contexts when `settings.tls` is set, or why they could not be built (then
    /// `bind` and every connect fail with that error).
    private let tls: Result<TransportTLS, LocalityError>?
    private let tlsReloading: Mutex<Task<Void, Never>?> = Mutex(nil)

    /// A transport for `identity`, serving inbound calls with `handler`, authenticating
    /// peers with `clusterKey`.
    public convenience init(
        identity: NodeID,
        incarnation: UInt64 = 0,
        clusterKey: [UInt8],
        settings: TransportSettings = TransportSettings(),
        handler: any TransportHandler,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "locality.transport")
    ) {
        self.init(
            identity: identity, incarnation: incarnation, proofs: ClusterKeyProof(clusterKey: clusterKey), settings: settings,
            handler: handler, group: group, logger: logger)
    }

    /// A transport for `identity`, serving inbound calls with `handler`, authenticating
    /// peers with `proofs` (e.g. `ClusterKeyProof(currentKeys:)` reading a keyring that is
    /// reloaded when its file changes: each handshake uses the keys in force).
    public init(
        identity: NodeID,
        incarnation: UInt64 = 0,
        proofs: ClusterKeyProof,
        settings: TransportSettings = TransportSettings(),
        handler: any TransportHandler,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "locality.transport")
    ) {
        self.identity = identity
        self.incarnation = incarnation
        self.settings = settings
        self.proofs = proofs
        self.handler = handler
        self.group = group
        self.metrics = TransportMetrics(node: identity.name)
        self.state = Mutex(State(random: SeededRandom(seed: identity.uid)))
        var logger = logger
        logger[metadataKey: "node"] = "\(identity)"
        self.logger = logger
        let metrics = self.metrics
        self.tls = settings.tls.map { settings in
            Result { () throws(LocalityError) in try TransportTLS(settings: settings, metrics: metrics, logger: logger) }
        }
        if case .success(let tls) = self.tls {
            tlsReloading.withLock { $0 = Task { await tls.run() } }
        }
    }

    /// Whether connections use mutual TLS (`settings.tls` loaded).
    public var usesTLS: Bool {
        if case .success = tls { return true }
        return false
    }

    /// The TLS contexts, nil for plain TCP; throws when `settings.tls` could not be loaded.
    private func tlsContexts() throws(LocalityError) -> TransportTLS? {
        switch tls {
        case nil: return nil
        case .success(let tls): return tls
        case .failure(let error): throw error
        }
    }

    /// Counters for inspection (refused handshakes, rejected frames, errors by code).
    public var counters: TransportCounters { metrics.counters.withLock { $0 } }

    // MARK: Listening

    /// Starts accepting connections; returns the bound address (port 0 picks a free one).
    public func bind(host: String, port: Int) async throws -> NodeAddress {
        let tls = try tlsContexts()
        if tls == nil {
            logger.notice("node transport runs plain TCP, unencrypted: fine on loopback, use --tls-cert/--tls-key/--tls-ca elsewhere",
                          metadata: ["bind": "\(host):\(port)"])
        }
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: waterMark)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try self.initializeInbound(channel, tls: tls) }
            }
            .bind(host: host, port: port)
            .get()
        state.withLock { $0.listener = channel }
        return NodeAddress(host: host, port: channel.localAddress?.port ?? port)
    }

    private var waterMark: ChannelOptions.Types.WriteBufferWaterMark {
        .init(low: settings.writeBufferLowWaterMark, high: max(settings.writeBufferHighWaterMark, settings.writeBufferLowWaterMark + 1))
    }

    private func initializeInbound(_ channel: any Channel, tls: TransportTLS?) throws {
        let admitted = state.withLock { state -> Bool in
            guard !state.shuttingDown, state.connectionCount < settings.maxConnections else { return false }
            state.connectionCount += 1
            state.inbound[ObjectIdentifier(channel)] = channel
            return true
        }
        guard admitted else {
            metrics.recordConnectionRefused()
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { [self] _ in
            state.withLock { state in
                state.connectionCount -= 1
                state.inbound[ObjectIdentifier(channel)] = nil
            }
        }
        let server = ServerHandshake(local: localHello(), proofs: proofs)
        let pipeline = channel.pipeline.syncOperations
        if let tls {
            try pipeline.addHandler(NIOSSLServerHandler(context: tls.serverContext))
            try pipeline.addHandler(TLSRefusalHandler(direction: "inbound", metrics: metrics, logger: logger))
        }
        try pipeline.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameSize: settings.maxFrameSize)))
        try pipeline.addHandler(HandshakeHandler(
            side: .server(server), promise: channel.eventLoop.makePromise(), timeout: settings.handshakeTimeout, metrics: metrics
        ))
        try pipeline.addHandler(CallServerHandler(
            handler: handler, maxConcurrent: settings.maxConcurrentHandlersPerConnection, metrics: metrics
        ))
        try pipeline.addHandler(FrameErrorResponder(metrics: metrics))
    }

    private func localHello() -> HandshakeHello {
        var generator = SystemRandomNumberGenerator()
        let nonce = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return HandshakeHello(version: Self.protocolVersion, node: identity, incarnation: incarnation, nonce: nonce)
    }

    // MARK: Calling

    /// Calls `peer` with `payload` and returns its reply.
    ///
    /// Throws `LocalityError`: `overloaded` when a bound is hit, `deadline_exceeded`,
    /// `cancelled` when the task is cancelled, `unavailable` when the peer cannot be
    /// reached (or is in reconnect backoff), or the code the peer's handler threw.
    /// `traceparent` defaults to the one the instrument injects from the current
    /// `ServiceContext`.
    public func call(
        _ peer: NodeAddress, payload: ByteBuffer, deadline: NIODeadline, traceparent: String? = nil
    ) async throws -> ByteBuffer {
        let connection = try await connection(to: peer, deadline: deadline)
        let budget = max(0, (deadline - .now()).nanoseconds / 1_000_000)
        let header = CallHeader(
            deadlineBudgetMilliseconds: UInt32(clamping: budget),
            traceparent: traceparent ?? Self.currentTraceparent()
        )
        return try await connection.call(payload, header: header, deadline: deadline)
    }

    /// Sends a ping to `peer` and waits for the pong.
    public func ping(_ peer: NodeAddress, deadline: NIODeadline) async throws {
        try await connection(to: peer, deadline: deadline).ping(deadline: deadline)
    }

    /// The authenticated identity behind `peer`, connecting when needed.
    public func peerIdentity(_ peer: NodeAddress, deadline: NIODeadline) async throws -> NodeID {
        try await connection(to: peer, deadline: deadline).peer.node
    }

    private static func currentTraceparent() -> String? {
        guard let context = ServiceContext.current else { return nil }
        var carrier: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &carrier, using: TraceparentInjector())
        return carrier["traceparent"]
    }

    /// The open connection to `peer`, or a new one (one connection per peer: concurrent
    /// callers share the same attempt).
    func connection(to peer: NodeAddress, deadline: NIODeadline) async throws -> OutboundConnection {
        enum Next {
            case use(OutboundConnection)
            case await(EventLoopFuture<OutboundConnection>)
            case fail(LocalityError)
            case connect(EventLoopPromise<OutboundConnection>)
        }
        let now = NIODeadline.now()
        let next = state.withLock { state -> Next in
            if state.shuttingDown { return .fail(LocalityError(.unavailable, "transport is shutting down")) }
            switch state.peers[peer] {
            case .ready(let connection) where connection.isOpen:
                return .use(connection)
            case .connecting(let future):
                return .await(future)
            case .waiting(let until, let error) where until > now:
                return .fail(LocalityError(error.code == .unauthenticated ? .unauthenticated : .unavailable,
                                           "\(peer) unreachable, retry after backoff: \(error.message)"))
            default:
                guard state.connectionCount < settings.maxConnections else {
                    return .fail(LocalityError(.overloaded, "\(state.connectionCount) connections open; limit \(settings.maxConnections)"))
                }
                state.connectionCount += 1
                let promise = group.any().makePromise(of: OutboundConnection.self)
                state.peers[peer] = .connecting(promise.futureResult)
                return .connect(promise)
            }
        }
        switch next {
        case .use(let connection):
            return connection
        case .fail(let error):
            metrics.recordError(error.code)
            throw error
        case .await(let future):
            return try await future.get()
        case .connect(let promise):
            promise.completeWith(connect(to: peer))
            do {
                let connection = try await promise.futureResult.get()
                state.withLock { state in
                    state.peers[peer] = .ready(connection)
                    state.backoff[peer]?.reset()
                }
                return connection
            } catch {
                let failure = (error as? LocalityError) ?? LocalityError(.unavailable, "cannot connect to \(peer): \(error)")
                state.withLock { state in
                    state.connectionCount -= 1
                    var backoff = state.backoff[peer] ?? ReconnectBackoff(
                        baseDelay: settings.reconnectBaseDelay, maxDelay: settings.reconnectMaxDelay, random: state.random.split()
                    )
                    let delay = backoff.nextDelay()
                    state.backoff[peer] = backoff
                    state.peers[peer] = .waiting(until: .now() + delay.timeAmount, error: failure)
                }
                metrics.recordError(failure.code)
                throw failure
            }
        }
    }

    private func connect(to peer: NodeAddress) -> EventLoopFuture<OutboundConnection> {
        let eventLoop = group.any()
        let tls: TransportTLS?
        do {
            tls = try tlsContexts()
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        let logger = self.logger
        let handshake = eventLoop.makePromise(of: HandshakeHello.self)
        let client = ClientHandshake(local: localHello(), proofs: proofs)
        let settings = self.settings
        let metrics = self.metrics
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(settings.handshakeTimeout.timeAmount)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: waterMark)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        try pipeline.addHandler(NIOSSLClientHandler(context: tls.clientContext, serverHostname: nil))
                        try pipeline.addHandler(TLSRefusalHandler(direction: "outbound", metrics: metrics, logger: logger))
                    }
                    try pipeline.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameSize: settings.maxFrameSize)))
                    try pipeline.addHandler(HandshakeHandler(
                        side: .client(client), promise: handshake, timeout: settings.handshakeTimeout, metrics: metrics
                    ))
                    try pipeline.addHandler(FrameErrorResponder(metrics: metrics))
                }
            }
        return bootstrap.connect(host: peer.host, port: peer.port).flatMap { channel in
            handshake.futureResult.flatMapThrowing { hello in
                let connection = OutboundConnection(peer: hello, channel: channel, settings: settings, metrics: metrics)
                try channel.pipeline.syncOperations.addHandler(
                    CallClientHandler(connection: connection, sweepInterval: settings.deadlineSweepInterval),
                    position: .before(channel.pipeline.syncOperations.handler(type: FrameErrorResponder.self))
                )
                channel.closeFuture.whenComplete { [self] _ in
                    state.withLock { state in
                        state.connectionCount -= 1
                        if case .ready(let current) = state.peers[peer], current === connection {
                            state.peers[peer] = nil
                        }
                    }
                }
                return connection
            }.flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw error
            }
        }.flatMapErrorThrowing { error in
            let failure = (error as? LocalityError) ?? LocalityError(.unavailable, "cannot connect to \(peer): \(error)")
            handshake.fail(failure)
            throw failure
        }
    }

    // MARK: Closing

    /// Closes the connection to `peer` (it is reopened on the next call).
    public func disconnect(_ peer: NodeAddress) async {
        let connection = state.withLock { state -> OutboundConnection? in
            guard case .ready(let connection) = state.peers[peer] else { return nil }
            return connection
        }
        try? await connection?.channel.close()
    }

    /// Graceful close: stop accepting, let in-flight calls (both directions) finish for
    /// up to `drainTimeout`, then close every connection.
    public func shutdown() async {
        let (listener, inbound, outbound) = state.withLock { state in
            state.shuttingDown = true
            let outbound = state.peers.values.compactMap { slot -> OutboundConnection? in
                if case .ready(let connection) = slot { return connection }
                return nil
            }
            return (state.listener, Array(state.inbound.values), outbound)
        }
        try? await listener?.close()
        for channel in inbound {
            channel.pipeline.fireUserInboundEventTriggered(DrainRequest())
        }
        await withTaskGroup(of: Void.self) { group in
            for connection in outbound {
                group.addTask { await connection.drain(timeout: self.settings.drainTimeout) }
            }
        }
        let limit = NIODeadline.now() + settings.drainTimeout.timeAmount
        while NIODeadline.now() < limit, state.withLock({ !$0.inbound.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(5))
        }
        for connection in outbound { try? await connection.channel.close() }
        for channel in state.withLock({ Array($0.inbound.values) }) { try? await channel.close() }
        tlsReloading.withLock { $0?.cancel() }
    }
}
