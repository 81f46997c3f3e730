import LocalityCore
import NIOCore

/// The last handler of every transport pipeline: turns a framing error into an error
/// frame (request id 0) and closes the connection, so bad input never crashes the node
/// and never leaves a connection in an unknown state.
final class FrameErrorResponder: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = ByteBuffer

    private let metrics: TransportMetrics
    private var closing = false

    init(metrics: TransportMetrics) {
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Frames that reach the tail were not for anyone (e.g. after a refusal): drop.
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !closing else { return }
        closing = true
        let reply: LocalityError
        if let framing = error as? FrameDecodingError {
            metrics.recordFrameRejected()
            reply = framing.localityError
        } else {
            reply = LocalityError(.internal, "connection error: \(error)")
        }
        Self.sendErrorAndClose(reply, context: context)
    }

    /// Writes an error frame for the connection (request id 0), then closes it.
    static func sendErrorAndClose(_ error: LocalityError, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 64)
        Frame.error(LocalityErrorPayload(error), requestID: 0, allocator: context.channel.allocator).write(to: &buffer)
        let channel = context.channel
        context.writeAndFlush(NIOAny(buffer)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
