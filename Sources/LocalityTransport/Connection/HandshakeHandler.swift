import LocalityCore
import NIOCore

/// Fired down the pipeline once the handshake succeeded.
struct HandshakeCompleted: Sendable {
    let peer: HandshakeHello
}

/// Runs `ClientHandshake` or `ServerHandshake` on a fresh connection: feeds it handshake
/// frames, writes what it says, and refuses (error frame, close, counted) on a bad proof,
/// a bad message, a non-handshake frame before the handshake ends, or a timeout. After
/// success it passes frames through untouched.
final class HandshakeHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias InboundOut = Frame
    typealias OutboundOut = ByteBuffer

    enum Side {
        case client(ClientHandshake)
        case server(ServerHandshake)
    }

    private var side: Side
    private var established = false
    private var finished = false
    private let promise: EventLoopPromise<HandshakeHello>
    private let metrics: TransportMetrics
    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?

    init(side: Side, promise: EventLoopPromise<HandshakeHello>, timeout: Duration, metrics: TransportMetrics) {
        self.side = side
        self.promise = promise
        self.timeout = timeout.timeAmount
        self.metrics = metrics
    }

    func channelActive(context: ChannelHandlerContext) {
        let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        let loopSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            let handler = loopSelf.value
            guard !handler.finished else { return }
            handler.refuse(LocalityError(.deadlineExceeded, "handshake did not finish in time"), context: loopContext.value, count: true)
        }
        if case .client(let client) = side {
            send(client.hello, context: context)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if established {
            context.fireChannelRead(data)
            return
        }
        guard !finished else { return }
        var frame = unwrapInboundIn(data)
        switch frame.kind {
        case .handshake:
            guard let message = HandshakeMessage.read(from: &frame.payload) else {
                refuse(LocalityError(.badRequest, "malformed handshake"), context: context, count: true)
                return
            }
            let step: HandshakeStep
            switch side {
            case .client(var client):
                step = client.receive(message)
                side = .client(client)
            case .server(var server):
                step = server.receive(message)
                side = .server(server)
            }
            apply(step, context: context)
        case .error:
            let error = LocalityErrorPayload.read(from: &frame.payload)?.localityError
                ?? LocalityError(.unauthenticated, "peer refused the handshake")
            finish(.failure(error))
            context.close(promise: nil)
        default:
            refuse(LocalityError(.unauthenticated, "\(frame.kind) frame before the handshake"), context: context, count: true)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(.failure(LocalityError(.unavailable, "connection closed during the handshake")))
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(LocalityError(.unavailable, "connection closed during the handshake")))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !established {
            finish(.failure((error as? LocalityError) ?? LocalityError(.unavailable, "handshake failed: \(error)")))
        }
        context.fireErrorCaught(error)
    }

    private func apply(_ step: HandshakeStep, context: ChannelHandlerContext) {
        switch step {
        case .send(let message):
            send(message, context: context)
        case .established(let peer, let message):
            if let message { send(message, context: context) }
            established = true
            finish(.success(peer))
            context.fireUserInboundEventTriggered(HandshakeCompleted(peer: peer))
        case .refuse(let error):
            refuse(error, context: context, count: true)
        }
    }

    private func send(_ message: HandshakeMessage, context: ChannelHandlerContext) {
        var payload = context.channel.allocator.buffer(capacity: 128)
        message.write(to: &payload)
        var buffer = context.channel.allocator.buffer(capacity: payload.readableBytes + Frame.headerSize)
        Frame(kind: .handshake, requestID: 0, payload: payload).write(to: &buffer)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    private func refuse(_ error: LocalityError, context: ChannelHandlerContext, count: Bool) {
        guard !finished else { return }
        if count { metrics.recordHandshakeRefused() }
        finish(.failure(error))
        FrameErrorResponder.sendErrorAndClose(error, context: context)
    }

    private func finish(_ result: Result<HandshakeHello, LocalityError>) {
        guard !finished else { return }
        finished = true
        timer?.cancel()
        switch result {
        case .success(let peer): promise.succeed(peer)
        case .failure(let error): promise.fail(error)
        }
    }
}
