import LocalityCore
import NIOCore

/// The inbound half of an outbound connection: hands replies, errors and pongs to the
/// waiting callers of its `OutboundConnection`, sweeps deadlines, and fails every pending
/// call with `unavailable` when the connection drops.
final class CallClientHandler: ChannelInboundHandler {
    typealias InboundIn = Frame

    private let connection: OutboundConnection
    private let sweepInterval: TimeAmount
    private var sweep: RepeatedTask?

    init(connection: OutboundConnection, sweepInterval: Duration) {
        self.connection = connection
        self.sweepInterval = sweepInterval.timeAmount
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let connection = self.connection
        sweep = context.eventLoop.scheduleRepeatedTask(initialDelay: sweepInterval, delay: sweepInterval) { _ in
            connection.sweepDeadlines(now: .now())
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        sweep?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var frame = unwrapInboundIn(data)
        switch frame.kind {
        case .reply, .pong:
            connection.complete(frame.requestID, with: .success(frame.payload))
        case .error:
            let error = LocalityErrorPayload.read(from: &frame.payload)?.localityError
                ?? LocalityError(.badRequest, "malformed error frame")
            if frame.requestID == 0 {
                connection.fail(error)
                context.close(promise: nil)
            } else {
                connection.complete(frame.requestID, with: .failure(error))
            }
        case .ping:
            var buffer = context.channel.allocator.buffer(capacity: Frame.headerSize)
            Frame(kind: .pong, requestID: frame.requestID, payload: ByteBuffer()).write(to: &buffer)
            context.writeAndFlush(NIOAny(buffer), promise: nil)
        case .handshake, .call, .cancel:
            let error = LocalityError(.badRequest, "\(frame.kind) frame on an outbound connection")
            connection.fail(error)
            FrameErrorResponder.sendErrorAndClose(error, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        sweep?.cancel()
        connection.fail(LocalityError(.unavailable, "connection to \(connection.peer.node) lost"))
        context.fireChannelInactive()
    }
}
