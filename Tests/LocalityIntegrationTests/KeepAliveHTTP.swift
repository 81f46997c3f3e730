import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// An HTTP answer: status and body.
struct HTTPReply: Sendable {
    var status: Int
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The `code` of a `{"error":{"code":…}}` body, if any.
    var errorCode: String? {
        guard let document = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let error = document["error"] as? [String: Any]
        else { return nil }
        return error["code"] as? String
    }
}

/// One keep-alive HTTP/1.1 connection to 127.0.0.1, one request at a time (the caller
/// awaits each answer before the next). Every request is bounded in time: past its
/// timeout the connection closes and the request fails; make a new connection then.
final class KeepAliveHTTP: Sendable {
    enum Failure: Error { case closed, timedOut }

    private let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// The clients' own event loop: a workload of thousands of requests does not queue
    /// behind (or in front of) the other tests' work on the shared singleton loops.
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    static func connect(port: Int) async throws -> KeepAliveHTTP {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ExchangeHandler())
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return KeepAliveHTTP(channel: channel)
    }

    var isActive: Bool { channel.isActive }

    func request(_ method: HTTPMethod, _ path: String, body: [UInt8] = [], timeout: Duration = .seconds(30)) async throws -> HTTPReply {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: "127.0.0.1")
        if method == .POST {
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: "\(body.count)")
            // The gateway's deadline for the call: a little under the client's own.
            head.headers.add(name: "X-Locality-Timeout-Ms", value: "\(max(1, Int64(timeout / .milliseconds(1)) - 2_000))")
        }
        // Completed once: by the answer, by a failed write (the connection closed before
        // the request went out), or by the timer; later completions are ignored.
        let promise = channel.eventLoop.makePromise(of: HTTPReply.self)
        let channel = channel
        let timer = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(timeout / .milliseconds(1)))) {
            promise.fail(Failure.timedOut)
            channel.close(promise: nil)
        }
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { promise.fail($0) }
        channel.writeAndFlush(Exchange(head: head, body: ByteBuffer(bytes: body), reply: promise), promise: written)
        defer { timer.cancel() }
        return try await promise.futureResult.get()
    }

    func post(_ path: String, _ json: String, timeout: Duration = .seconds(30)) async throws -> HTTPReply {
        try await request(.POST, path, body: Array(json.utf8), timeout: timeout)
    }

    func get(_ path: String, timeout: Duration = .seconds(30)) async throws -> HTTPReply {
        try await request(.GET, path, timeout: timeout)
    }

    func close() {
        channel.close(promise: nil)
    }
}

/// A request and where its answer goes.
struct Exchange: Sendable {
    let head: HTTPRequestHead
    let body: ByteBuffer
    let reply: EventLoopPromise<HTTPReply>
}

/// Writes requests and completes their promises with the answers, in order.
final class ExchangeHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Exchange
    typealias OutboundOut = HTTPClientRequestPart

    private var waiting = CircularBuffer<EventLoopPromise<HTTPReply>>()
    private var status = 0
    private var body: [UInt8] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        waiting.append(exchange.reply)
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        if exchange.body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(exchange.body))), promise: nil) }
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            body = []
        case .body(let buffer):
            body += buffer.readableBytesView
        case .end:
            if !waiting.isEmpty { waiting.removeFirst().succeed(HTTPReply(status: status, body: body)) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll()
        context.close(promise: nil)
    }

    private func failAll() {
        while !waiting.isEmpty { waiting.removeFirst().fail(KeepAliveHTTP.Failure.closed) }
    }
}

/// A worker's connections, one per port, reopened after a failure. Used by one task.
final class HTTPConnections {
    private var open: [Int: KeepAliveHTTP] = [:]

    func connection(_ port: Int) async throws -> KeepAliveHTTP {
        if let existing = open[port], existing.isActive { return existing }
        let fresh = try await KeepAliveHTTP.connect(port: port)
        open[port] = fresh
        return fresh
    }

    /// POST on `port`; a transport failure drops the connection and rethrows.
    func post(port: Int, _ path: String, _ json: String, timeout: Duration = .seconds(30)) async throws -> HTTPReply {
        do {
            return try await connection(port).post(path, json, timeout: timeout)
        } catch {
            open[port]?.close()
            open[port] = nil
            throw error
        }
    }

    func get(port: Int, _ path: String, timeout: Duration = .seconds(30)) async throws -> HTTPReply {
        do {
            return try await connection(port).get(path, timeout: timeout)
        } catch {
            open[port]?.close()
            open[port] = nil
            throw error
        }
    }

    func closeAll() {
        for connection in open.values { connection.close() }
        open = [:]
    }

    /// Polls `GET /readyz` on `port` every 100 ms for at most 20 s; whether it answered 200.
    func waitUntilReady(port: Int) async -> Bool {
        for _ in 0..<200 {
            if (try? await get(port: port, "/readyz", timeout: .seconds(2)))?.status == 200 { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}
