import HTTPTypes
import Hummingbird
import LocalityCore
import LocalityRouting
import NIOCore

/// Ringpop's handle-or-forward for a plain Hummingbird service: requests whose key this
/// node owns go to the handlers; the others are forwarded over the node transport to
/// the owner, which runs its own handlers (through `HTTPForwarding`), and the owner's
/// response is returned. An existing HTTP service becomes sticky without changing its
/// handlers.
///
/// Requests without a key (`keyFrom` returns nil) are handled locally. Routing errors map
/// to HTTP: `overloaded` → 503 with Retry-After, `deadline_exceeded` → 504, `unavailable`
/// → 503, `payload_too_large` → 413, others → 502.
public struct HandleOrForwardMiddleware<Context: RequestContext>: RouterMiddleware where Context.Source == ApplicationRequestContextSource {
    /// Hummingbird's request.
    public typealias Input = Request
    /// Hummingbird's response.
    public typealias Output = Response

    private let router: LocalityRouting.Router
    private let forwarding: HTTPForwarding<Context>
    private let keyFrom: @Sendable (Request, Context) -> String?

    /// A middleware routing by the key `keyFrom` extracts (nil: handle locally), forwarding with `router` to the owner's `forwarding`.
    public init(router: LocalityRouting.Router, forwarding: HTTPForwarding<Context>, keyFrom: @escaping @Sendable (Request, Context) -> String?) {
        self.router = router
        self.forwarding = forwarding
        self.keyFrom = keyFrom
    }

    /// Runs `next` for replayed requests, keyless ones and keys this node owns; forwards the others to their owner and returns its response.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.headers[HTTPForwarding<Context>.forwardedHeader] == forwarding.token {
            return try await next(request, context)
        }
        guard let key = keyFrom(request, context), let owner = router.owner(of: key), owner != router.local else {
            return try await next(request, context)
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: forwarding.maxBodyBytes)
        } catch {
            return Self.errorResponse(LocalityError(.payloadTooLarge, "request body exceeds \(forwarding.maxBodyBytes) bytes"))
        }
        var fields = request.headers
        fields[HTTPForwarding<Context>.forwardedHeader] = nil
        let payload = ForwardedHTTP.encode(method: request.method, path: request.uri.description, fields: fields, body: body)
        do {
            let reply = try await router.handleOrForward(key: key, body: payload, deadline: .now() + .nanoseconds(forwarding.timeout.nanoseconds))
            let (status, headers, responseBody) = try ForwardedHTTP.decodeResponse(reply)
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: responseBody))
        } catch let error as LocalityError {
            return Self.errorResponse(error)
        }
    }

    /// `{"error":{"code":…,"message":…}}` with the status for the code.
    static func errorResponse(_ error: LocalityError) -> Response {
        let status: HTTPResponse.Status = switch error.code {
        case .overloaded, .unavailable: .serviceUnavailable
        case .deadlineExceeded: .gatewayTimeout
        case .payloadTooLarge: .contentTooLarge
        case .badRequest: .badRequest
        default: .badGateway
        }
        var headers: HTTPFields = [.contentType: "application/json"]
        if error.code == .overloaded { headers[.retryAfter] = "1" }
        var message = ""
        for character in error.message.unicodeScalars {
            switch character {
            case "\"": message += "\\\""
            case "\\": message += "\\\\"
            case _ where character.value < 0x20: message += " "
            default: message.unicodeScalars.append(character)
            }
        }
        let body = "{\"error\":{\"code\":\"\(error.code.rawValue)\",\"message\":\"\(message)\"}}"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
