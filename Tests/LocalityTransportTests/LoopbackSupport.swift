import LocalityCore
import NIOCore
import NIOPosix
import Synchronization
@testable import LocalityTransport

/// Handlers and helpers for the loopback tests.
enum Loopback {
    static let key = Array("loopback-cluster-key".utf8)

    static func transport(
        _ name: String, key: [UInt8] = Loopback.key, settings: TransportSettings = TransportSettings(), handler: any TransportHandler
    ) async throws -> (NodeTransport, NodeAddress) {
        let transport = NodeTransport(
            identity: NodeID(name: name, uid: UInt64(name.utf8.reduce(0) { $0 &* 31 &+ UInt64($1) })),
            clusterKey: key, settings: settings, handler: handler
        )
        let address = try await transport.bind(host: "127.0.0.1", port: 0)
        return (transport, address)
    }

    static func deadline(_ duration: Duration) -> NIODeadline { .now() + duration.timeAmount }
}

/// Replies with the request payload.
struct EchoHandler: TransportHandler {
    func handle(_ request: TransportRequest) async throws -> ByteBuffer { request.payload }
}

/// Sleeps for the number of milliseconds in the payload, then replies; records
/// cancellations and the largest number of calls running at once.
final class SleepHandler: TransportHandler {
    let cancellations = Mutex(0)
    let running = Mutex((now: 0, max: 0))
    let traceparents = Mutex([String]())

    func handle(_ request: TransportRequest) async throws -> ByteBuffer {
        running.withLock { $0.now += 1; $0.max = max($0.max, $0.now) }
        defer { running.withLock { $0.now -= 1 } }
        if let traceparent = request.traceparent { traceparents.withLock { $0.append(traceparent) } }
        var payload = request.payload
        let milliseconds = payload.readInteger(as: UInt32.self) ?? 0
        do {
            try await Task.sleep(for: .milliseconds(Int(milliseconds)))
        } catch {
            cancellations.withLock { $0 += 1 }
            throw error
        }
        return ByteBuffer(string: "slept \(milliseconds)")
    }

    static func payload(milliseconds: UInt32, padding: Int = 0) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(milliseconds)
        buffer.writeRepeatingByte(0x61, count: padding)
        return buffer
    }
}

/// A raw TCP client that writes bytes and collects what comes back until the server
/// closes the connection (or the wait times out).
enum RawPeer {
    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = Mutex(ByteBuffer())
        let closed: EventLoopPromise<Void>

        init(closed: EventLoopPromise<Void>) { self.closed = closed }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            received.withLock { _ = $0.writeBuffer(&bytes) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            closed.succeed(())
        }
    }

    /// Sends `bytes` and returns (everything received, whether the server closed within `wait`).
    static func exchange(_ bytes: ByteBuffer, with address: NodeAddress, wait: Duration = .seconds(3)) async throws -> (ByteBuffer, Bool) {
        let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        let closed = eventLoop.makePromise(of: Void.self)
        let collector = Collector(closed: closed)
        let channel = try await ClientBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(host: address.host, port: address.port).get()
        try await channel.writeAndFlush(bytes)
        let timeout = eventLoop.scheduleTask(in: wait.timeAmount) { closed.fail(LocalityError(.deadlineExceeded, "server kept the connection open")) }
        let didClose = (try? await closed.futureResult.get()) != nil
        timeout.cancel()
        try? await channel.close()
        return (collector.received.withLock { $0 }, didClose)
    }

    /// Decodes every complete frame in `bytes`.
    static func frames(in bytes: ByteBuffer) -> [Frame] {
        var bytes = bytes
        var frames: [Frame] = []
        while let frame = try? FrameDecoder.decodeFrame(from: &bytes, maxFrameSize: 1 << 22) { frames.append(frame) }
        return frames
    }
}

/// A peer that completes the handshake, then never reads its socket again: the sender's
/// bytes pile up in the kernel buffers, then in the sender's per-peer queue.
enum NeverReadingPeer {
    final class StopReading: ChannelInboundHandler, Sendable {
        typealias InboundIn = Frame

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is HandshakeCompleted {
                context.channel.setOption(.autoRead, value: false).whenComplete { _ in }
            }
            context.fireUserInboundEventTriggered(event)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
    }

    static func start(key: [UInt8] = Loopback.key) async throws -> (any Channel, NodeAddress) {
        let metrics = TransportMetrics(node: "never-reads")
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.socketOption(.so_rcvbuf), value: 4096)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let hello = HandshakeHello(
                        version: NodeTransport.protocolVersion, node: NodeID(name: "never-reads", uid: 9), incarnation: 0,
                        nonce: Array(repeating: 7, count: 32)
                    )
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameSize: 1 << 22)))
                    try pipeline.addHandler(HandshakeHandler(
                        side: .server(ServerHandshake(local: hello, proofs: ClusterKeyProof(clusterKey: key))),
                        promise: channel.eventLoop.makePromise(), timeout: .seconds(5), metrics: metrics
                    ))
                    try pipeline.addHandler(StopReading())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return (channel, NodeAddress(host: "127.0.0.1", port: channel.localAddress!.port!))
    }
}
