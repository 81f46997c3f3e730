import HTTPTypes
import Hummingbird
import LocalityCore
import LocalityRouting
import Logging
import NIOCore
import NIOEmbedded
import Synchronization

/// The owner's side of Ringpop-style HTTP forwarding: a `RoutedHandler` that replays a
/// forwarded HTTP request through this node's own Hummingbird responder and sends the
/// response back. Attach the responder once the application's router is built.
///
/// Replayed requests carry a header holding a per-process random token, so the
/// `HandleOrForwardMiddleware` passes them to the handlers instead of forwarding again
/// (the router already decided this node owns the key); a client cannot forge it.
public final class HTTPForwarding<Context: RequestContext>: RoutedHandler where Context.Source == ApplicationRequestContextSource {
    /// Header marking a request replayed on its owner.
    public static var forwardedHeader: HTTPField.Name { HTTPField.Name("x-locality-forwarded")! }

    /// Largest request body forwarded, in bytes (larger: 413). Default 1 MiB.
    public let maxBodyBytes: Int
    /// Time a forwarded request may take end to end. Default 5 s.
    public let timeout: Duration
    let token: String
    private let responder = Mutex<(any HTTPResponder<Context>)?>(nil)
    private let logger: Logger

    /// A forwarding handler with a fresh random token; attach the responder before traffic arrives.
    public init(maxBodyBytes: Int = 1 << 20, timeout: Duration = .seconds(5), logger: Logger = Logger(label: "locality.http-forwarding")) {
        self.maxBodyBytes = maxBodyBytes
        self.timeout = timeout
        var generator = SystemRandomNumberGenerator()
        self.token = (0..<4).map { _ in String(generator.next() as UInt64, radix: 16) }.joined()
        self.logger = logger
    }

    /// Sets the responder forwarded requests run through (the application's router).
    public func attach(_ responder: some HTTPResponder<Context>) {
        self.responder.withLock { $0 = responder }
    }

    /// Replays a forwarded request through the attached responder and returns the encoded response; `unavailable` when no responder is attached yet.
    public func handle(_ request: RoutedRequest) async throws -> ByteBuffer {
        guard let responder = responder.withLock({ $0 }) else {
            throw LocalityError(.unavailable, "HTTP forwarding has no responder attached yet")
        }
        let (method, path, fields, body) = try ForwardedHTTP.decodeRequest(request.body)
        var head = HTTPRequest(method: method, scheme: nil, authority: nil, path: path, headerFields: fields)
        head.headerFields[Self.forwardedHeader] = token
        // The replayed request has no socket of its own; its context gets a detached
        // channel (no remote address).
        let context = Context(source: ApplicationRequestContextSource(channel: EmbeddedChannel(), logger: logger))
        let response: Response
        do {
            response = try await responder.respond(to: Request(head: head, body: RequestBody(buffer: body)), context: context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: Request(head: head, body: RequestBody(buffer: ByteBuffer())), context: context)
        }
        let collector = BodyCollector()
        try await response.body.write(collector)
        return ForwardedHTTP.encode(status: response.status, fields: response.headers, body: collector.bytes)
    }
}

/// Gathers a response body in memory.
final class BodyCollector: ResponseBodyWriter, Sendable {
    private let buffer = Mutex(ByteBuffer())

    var bytes: ByteBuffer { buffer.withLock { $0 } }

    func write(_ part: ByteBuffer) async throws {
        var part = part
        buffer.withLock { _ = $0.writeBuffer(&part) }
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
