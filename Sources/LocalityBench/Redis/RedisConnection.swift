import LocalityCore
import NIOCore
import NIOPosix

/// One TCP connection to Redis speaking RESP2. Commands may overlap: replies come back in
/// order, so each waits for its turn in a FIFO of promises.
///
/// Bound: at most `maxInFlight` commands waiting for a reply; one more fails at once with
/// `LocalityError(.overloaded)`. A closed connection fails every waiting command with
/// `unavailable`.
public final class RedisConnection: Sendable {
    let channel: any Channel
    private let handler: NIOLoopBound<RedisClientHandler>

    private init(channel: any Channel, handler: NIOLoopBound<RedisClientHandler>) {
        self.channel = channel
        self.handler = handler
    }

    /// Connects to `host:port` on `group`.
    public static func connect(host: String, port: Int, maxInFlight: Int = 1024, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> RedisConnection {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RedisClientHandler(maxInFlight: maxInFlight))
                }
            }
            .connect(host: host, port: port).get()
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: RedisClientHandler.self), eventLoop: channel.eventLoop)
        }.get()
        return RedisConnection(channel: channel, handler: handler)
    }

    /// Sends `arguments` as one command; returns the reply (a RESP error reply is returned
    /// as `.error`, not thrown).
    public func send(_ arguments: [String]) async throws -> RESPValue {
        var buffer = channel.allocator.buffer(capacity: 64)
        RESPEncoder.writeCommand(arguments, into: &buffer)
        let command = buffer
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        let handler = self.handler
        let channel = self.channel
        if channel.eventLoop.inEventLoop {
            handler.value.enqueue(command, promise: promise, channel: channel)
        } else {
            channel.eventLoop.execute { handler.value.enqueue(command, promise: promise, channel: channel) }
        }
        return try await promise.futureResult.get()
    }

    public func close() async {
        try? await channel.close()
    }
}

/// Writes commands and completes their promises in reply order.
final class RedisClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let maxInFlight: Int
    private var waiting = CircularBuffer<EventLoopPromise<RESPValue>>()
    private var received: ByteBuffer?
    private var closed = false
    private let parser = RESPParser()

    init(maxInFlight: Int) {
        self.maxInFlight = maxInFlight
    }

    func enqueue(_ command: ByteBuffer, promise: EventLoopPromise<RESPValue>, channel: any Channel) {
        guard !closed else {
            promise.fail(LocalityError(.unavailable, "redis connection closed"))
            return
        }
        guard waiting.count < maxInFlight else {
            promise.fail(LocalityError(.overloaded, "redis connection: \(maxInFlight) commands waiting for replies"))
            return
        }
        waiting.append(promise)
        channel.writeAndFlush(command, promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if received == nil {
            received = bytes
        } else {
            received!.writeBuffer(&bytes)
        }
        do {
            while var buffer = received, let value = try parser.parse(&buffer) {
                received = buffer
                guard let promise = waiting.popFirst() else {
                    throw LocalityError(.badRequest, "redis sent a reply nobody asked for")
                }
                promise.succeed(value)
            }
            if received?.readableBytes == 0 { received = nil } else { received?.discardReadBytes() }
        } catch {
            failAll(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(LocalityError(.unavailable, "redis connection closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(LocalityError(.unavailable, "redis connection: \(error)"))
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        closed = true
        while let promise = waiting.popFirst() { promise.fail(error) }
    }
}
