import LocalityCore
import Logging
import NIOCore
import NIOSSL

/// Sits right after the TLS handler: a failed TLS handshake (a peer without a
/// certificate, one the cluster CA did not sign, an expired one, or not TLS at all) is
/// counted in `locality_transport_tls_refused_total`, logged (at most once a second per
/// transport, with the number of refusals since the last line), and passed on as an
/// `unauthenticated` error so the caller learns why it could not connect.
final class TLSRefusalHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let metrics: TransportMetrics
    private let logger: Logger
    private let direction: String

    init(direction: String, metrics: TransportMetrics, logger: Logger) {
        self.direction = direction
        self.metrics = metrics
        self.logger = logger
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is NIOSSLError || error is BoringSSLError else {
            context.fireErrorCaught(error)
            return
        }
        let suppressed = metrics.recordTLSRefused()
        if let suppressed {
            logger.warning("transport TLS handshake refused", metadata: [
                "direction": "\(direction)",
                "peer": "\(context.remoteAddress.map { "\($0)" } ?? "?")",
                "error": "\(error)",
                "refused_since_last_line": "\(suppressed)",
            ])
        }
        context.fireErrorCaught(LocalityError(.unauthenticated, "TLS handshake with \(context.remoteAddress.map { "\($0)" } ?? "peer") failed: \(error)"))
        context.close(promise: nil)
    }
}
