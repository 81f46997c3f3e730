import LocalityCore
import NIOCore
import NIOPosix
import Synchronization

/// The NIO sockets of a gossip node: one UDP socket and one TCP listener on the same port
/// number, and short-lived outgoing TCP connections (one per stream message, as
/// memberlist's push-pull).
enum GossipSockets {
    typealias Datagram = AddressedEnvelope<ByteBuffer>
    typealias DatagramChannel = NIOAsyncChannel<Datagram, Datagram>
    typealias StreamChannel = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    /// Binds the UDP socket. Inbound datagrams are buffered by NIO up to 256 and the socket
    /// is no longer read above that (back pressure: the kernel then drops datagrams).
    static func bindDatagram(group: any EventLoopGroup, address: NodeAddress, settings: GossipSettings) async throws -> DatagramChannel {
        // No SO_REUSEADDR: on Linux it lets a second UDP socket bind the same port and
        // split the datagrams between two processes.
        try await DatagramBootstrap(group: group)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: settings.maxDatagramBytes + 1))
            .bind(host: address.host, port: address.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DatagramErrorFilter())
                    return try DatagramChannel(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(backPressureStrategy: .init(lowWatermark: 64, highWatermark: 256)))
                }
            }
    }

    /// Binds the TCP listener. Each accepted connection gets framing, a read timeout and
    /// a `StreamServerHandler` that hands its frames to `serve`.
    static func bindStream(
        group: any EventLoopGroup, address: NodeAddress, settings: GossipSettings, connections: InboundConnections,
        serve: @escaping @Sendable ([UInt8]) async -> FrameOutcome, onOverload: @escaping @Sendable () -> Void
    ) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 128)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try addStreamHandlers(channel, settings: settings)
                    try channel.pipeline.syncOperations.addHandler(
                        StreamServerHandler(connections: connections, serve: serve, onOverload: onOverload))
                }
            }
            .bind(host: address.host, port: address.port).get()
    }

    static func addStreamHandlers(_ channel: any Channel, settings: GossipSettings) throws {
        let readTimeout = TimeAmount.nanoseconds(settings.readTimeout.nanoseconds)
        try channel.pipeline.syncOperations.addHandlers([
            IdleStateHandler(readTimeout: readTimeout),
            IdleConnectionCloser(),
            ByteToMessageHandler(StreamFrameDecoder(maxFrameBytes: settings.maxFrameBytes)),
            MessageToByteHandler(StreamFrameEncoder()),
        ])
    }

    /// Opens a connection, then asks `body` for the frame (sealed only now, so its replay
    /// counter is fresh however long the connect took), writes it and closes once written.
    /// Returns the frame's size.
    static func sendFrame(
        to address: NodeAddress, group: any EventLoopGroup, settings: GossipSettings,
        body makeBody: @Sendable () async -> [UInt8]
    ) async throws -> Int {
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(settings.connectTimeout.nanoseconds))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(StreamFrameEncoder()))
                }
            }
            .connect(host: address.host, port: address.port).get()
        let body = await makeBody()
        do {
            try await channel.writeAndFlush(ByteBuffer(bytes: body)).get()
        } catch {
            try? await channel.close().get()
            throw error
        }
        try? await channel.close().get()
        return body.count
    }

    /// Sends one frame and returns the first frame answered, within the read timeout.
    static func request(_ body: [UInt8], to address: NodeAddress, group: any EventLoopGroup, settings: GossipSettings) async throws -> [UInt8] {
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(settings.connectTimeout.nanoseconds))
            .connect(host: address.host, port: address.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try addStreamHandlers(channel, settings: settings)
                    return try StreamChannel(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: body))
            for try await frame in inbound {
                return Array(buffer: frame)
            }
            throw LocalityError(.unavailable, "\(address) closed the connection without answering (wrong cluster key?)")
        }
    }
}

/// Keeps per-datagram socket errors (e.g. an ICMP-reported refusal) from ending the
/// async inbound stream, which would leave the node deaf: they are swallowed here. The
/// socket's own closing still ends the stream through `channelInactive`.
final class DatagramErrorFilter: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias InboundOut = AddressedEnvelope<ByteBuffer>

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}

/// Resolved socket addresses of peers, bounded: when `capacity` entries are cached, the
/// cache is emptied and refilled on demand (host names resolve again; IP literals are cheap).
struct PeerAddressCache {
    let capacity: Int
    private var entries: [NodeAddress: SocketAddress] = [:]

    init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    mutating func resolve(_ address: NodeAddress) throws -> SocketAddress {
        if let known = entries[address] { return known }
        let resolved: SocketAddress
        if let literal = try? SocketAddress(ipAddress: address.host, port: address.port) {
            resolved = literal
        } else {
            resolved = try SocketAddress.makeAddressResolvingHost(address.host, port: address.port)
        }
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[address] = resolved
        return resolved
    }
}

/// The UDP socket in use and its writer. NIO closes a datagram socket on a send error it
/// does not count as recoverable (EPERM when a local firewall drops the packet, as an
/// nftables output rule does), so the node binds the port again and installs the new
/// socket here; sends go to whichever socket is current (none between the two: those
/// datagrams are lost, as on a lossy network).
final class DatagramSocketSlot: Sendable {
    private struct Current: @unchecked Sendable {
        var channel: (any Channel)?
        var writer: NIOAsyncChannelOutboundWriter<GossipSockets.Datagram>?
    }

    private let current = Mutex(Current())

    func install(_ channel: any Channel, writer: NIOAsyncChannelOutboundWriter<GossipSockets.Datagram>) {
        current.withLock { $0 = Current(channel: channel, writer: writer) }
    }

    /// Forgets `channel` if it is the current one.
    func remove(_ channel: any Channel) {
        current.withLock { current in
            if current.channel === channel { current = Current() }
        }
    }

    var writer: NIOAsyncChannelOutboundWriter<GossipSockets.Datagram>? { current.withLock { $0.writer } }

    /// Closes the current socket, if any.
    func close() async {
        let channel = current.withLock { current in
            defer { current = Current() }
            return current.channel
        }
        try? await channel?.close()
    }
}
