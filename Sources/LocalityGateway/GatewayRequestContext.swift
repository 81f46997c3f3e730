import Hummingbird
import NIOCore

/// The request context of the gateway: Hummingbird's core storage, the client's socket
/// address (the rate limiter keys on its IP) and the connection (to close it after an
/// answer that leaves the request body unread).
public struct GatewayRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The client's socket address, when the channel has one.
    public let remoteAddress: SocketAddress?
    let channel: any Channel

    /// The context of a request arriving on `source`'s channel.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = CoreRequestContextStorage(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.channel = source.channel
    }

    /// The client's IP (no port), or "unknown".
    var clientKey: String { remoteAddress?.ipAddress ?? "unknown" }

    /// Closes the connection after `linger`: the answer (sent with `Connection: close`)
    /// goes out first and whatever the client still sends meanwhile is read and dropped,
    /// so it reads the answer rather than a reset; a client that keeps sending is cut off.
    func closeConnection(after linger: Duration) {
        let channel = self.channel
        channel.eventLoop.scheduleTask(in: .nanoseconds(linger.nanosecondsClamped)) {
            channel.close(promise: nil)
        }
    }
}

extension Duration {
    /// Whole nanoseconds, clamped to `Int64`.
    var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return product.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}

extension Request {
    /// Whether the request announces a body (a non-zero `Content-Length` or chunked).
    var announcesBody: Bool {
        if let length = headers[.contentLength] { return length != "0" }
        return headers[.transferEncoding] != nil
    }
}
