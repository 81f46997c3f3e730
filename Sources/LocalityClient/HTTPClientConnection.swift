import LocalityCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// A status, headers and body received by `HTTPClientConnection`.
public struct HTTPReply: Sendable {
    /// The HTTP status code.
    public var status: Int
    /// The response headers.
    public var headers: HTTPHeaders
    /// The response body.
    public var body: ByteBuffer
}

/// One HTTP/1.1 keep-alive connection (SwiftNIO, no pipelining: the caller sends one
/// request at a time and awaits its reply), used by `LocalityClient` and the load
/// generators.
///
/// Bound: one request in flight; a second concurrent `send` fails with `overloaded`. A
/// request that gets no reply within `timeout` fails with `deadline_exceeded` and closes
/// the connection (the caller reconnects).
public final class HTTPClientConnection: Sendable {
    private let channel: any Channel
    private let handler: NIOLoopBound<HTTPReplyHandler>
    private let host: String

    private init(channel: any Channel, handler: NIOLoopBound<HTTPReplyHandler>, host: String) {
        self.channel = channel
        self.handler = handler
        self.host = host
    }

    /// Opens a connection to `host:port`.
    public static func connect(host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> HTTPClientConnection {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(HTTPReplyHandler())
                }
            }
            .connect(host: host, port: port).get()
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: HTTPReplyHandler.self), eventLoop: channel.eventLoop)
        }.get()
        return HTTPClientConnection(channel: channel, handler: handler, host: "\(host):\(port)")
    }

    /// Whether the connection can still carry requests.
    public var isActive: Bool { channel.isActive }

    /// Sends `method path` with an optional JSON body and extra `headers`; returns the reply.
    public func send(
        _ method: HTTPMethod, _ path: String, json body: ByteBuffer? = nil, headers extra: [(String, String)] = [],
        timeout: Duration = .seconds(10)
    ) async throws -> HTTPReply {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        for (name, value) in extra { headers.add(name: name, value: value) }
        if let body {
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(body.readableBytes))
        }
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)
        let promise = channel.eventLoop.makePromise(of: HTTPReply.self)
        let handler = self.handler
        let channel = self.channel
        let replyTimeout = TimeAmount.nanoseconds(timeout.nanoseconds)
        channel.eventLoop.execute {
            handler.value.start(promise, channel: channel, timeout: replyTimeout)
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil) }
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }
        return try await promise.futureResult.get()
    }

    /// Closes the connection.
    public func close() async {
        try? await channel.close()
    }
}

/// Collects one response at a time into an `HTTPReply`.
final class HTTPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private var pending: EventLoopPromise<HTTPReply>?
    private var status = 0
    private var headers = HTTPHeaders()
    private var body: ByteBuffer?
    private var timer: Scheduled<Void>?

    /// The message of the error a request fails with when its connection was closed
    /// before it was written (nothing reached the server).
    static let closedBeforeSending = "http connection closed before the request was sent"

    func start(_ promise: EventLoopPromise<HTTPReply>, channel: any Channel, timeout: TimeAmount) {
        guard channel.isActive else {
            promise.fail(LocalityError(.unavailable, Self.closedBeforeSending))
            return
        }
        guard pending == nil else {
            promise.fail(LocalityError(.overloaded, "http connection: a request is already in flight"))
            return
        }
        pending = promise
        status = 0
        body = nil
        let handler = NIOLoopBound(self, eventLoop: channel.eventLoop)
        timer = channel.eventLoop.scheduleTask(in: timeout) {
            handler.value.fail(LocalityError(.deadlineExceeded, "no http reply within \(timeout)"))
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            headers = head.headers
        case .body(var part):
            if body == nil { body = part } else { body!.writeBuffer(&part) }
        case .end:
            timer?.cancel()
            timer = nil
            let reply = HTTPReply(status: status, headers: headers, body: body ?? ByteBuffer())
            body = nil
            headers = HTTPHeaders()
            let promise = pending
            pending = nil
            promise?.succeed(reply)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(LocalityError(.unavailable, "http connection closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(LocalityError(.unavailable, "http connection: \(error)"))
        context.close(promise: nil)
    }

    private func fail(_ error: LocalityError) {
        timer?.cancel()
        timer = nil
        let promise = pending
        pending = nil
        promise?.fail(error)
    }
}
