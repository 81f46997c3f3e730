import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import LocalityCore
import Logging
import NIOCore
import Synchronization

/// The HTTP gateway of a Locality node: actor calls over HTTP/JSON, health, cluster
/// views, metrics and the dashboard, served by Hummingbird 2 (see docs/gateway.md), over
/// HTTPS when `GatewaySettings.tls` is set, with bearer-token authentication when
/// `GatewaySettings.auth` is.
///
/// ```swift
/// let gateway = GatewayServer(settings: GatewaySettings(port: 8080), context: GatewayContext(invoker: system))
/// let app = gateway.makeApplication()   // a swift-service-lifecycle Service
/// try await ServiceGroup(services: [app, …], logger: logger).run()
/// ```
public final class GatewayServer: Sendable {
    /// The limits and timeouts in force.
    public let settings: GatewaySettings
    /// The node's actor seam and cluster views.
    public let context: GatewayContext
    let metrics: GatewayMetrics
    let limiter: InFlightLimiter
    let rateLimiter: ClientRateLimiter?
    let connections = ConnectionCounter()
    let stats: RequestStats
    /// Checks bearer tokens when `settings.auth` is set.
    let authenticator: GatewayAuthenticator?
    private let rejectionLog: AuthRejectionLog
    private let logger: Logger
    private let port = PortBox()

    /// A gateway with `settings` over `context`; nothing listens until the application from `makeApplication` runs.
    public init(settings: GatewaySettings, context: GatewayContext, logger: Logger = Logger(label: "locality.gateway")) {
        self.settings = settings
        self.context = context
        self.logger = logger
        let metrics = GatewayMetrics()
        self.metrics = metrics
        self.limiter = InFlightLimiter(maxInFlight: settings.maxInFlight, maxQueued: settings.maxQueued, maxWait: settings.maxQueueWait) { inFlight, queued in
            metrics.inFlight.record(inFlight)
            metrics.queued.record(queued)
        }
        self.rateLimiter = settings.rateLimit.map { ClientRateLimiter(settings: $0) }
        self.stats = RequestStats(capacity: settings.statsSeconds) { Int64(Date().timeIntervalSince1970) }
        self.authenticator = settings.auth.map { GatewayAuthenticator(settings: $0) }
        self.rejectionLog = AuthRejectionLog(logger: logger)
    }

    /// The port the server listens on once it runs (useful with `port: 0`).
    public var boundPort: Int? { port.value.withLock { $0 } }

    /// The Hummingbird application serving the gateway; run it (it is a `Service`) with
    /// `runService()` or inside a `ServiceGroup`. `onServerRunning` gets the bound port.
    public func makeApplication(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let settings = self.settings
        let connections = self.connections
        let metrics = self.metrics
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionLimitHandler(counter: connections, maxConnections: settings.maxConnections) { open, refused in
                metrics.connections.record(open)
                if refused { metrics.rejected(.connectionLimit) }
            }],
            idleTimeout: .nanoseconds(settings.idleTimeout.nanosecondsClamped)
        )
        let server: HTTPServerBuilder
        if let tls = settings.tls?.configuration {
            // The settings already made a context from this configuration, so this does not throw in practice.
            server = HTTPServerBuilder { responder in try TLSChannel(HTTP1Channel(responder: responder, configuration: http1), tlsConfiguration: tls) }
        } else {
            server = .http1(configuration: http1)
        }
        return Application(
            responder: makeResponder(),
            server: server,
            configuration: ApplicationConfiguration(address: .hostname(settings.host, port: settings.port), serverName: settings.serverName),
            onServerRunning: { [port] channel in
                let bound = channel.localAddress?.port ?? settings.port
                port.value.withLock { $0 = bound }
                await onServerRunning(bound)
            },
            logger: logger
        )
    }

    /// The gateway's endpoints and middleware as a responder, without a server: to answer
    /// requests in process (a benchmark of the per-request path, another server's route).
    public func makeResponder() -> some HTTPResponder<GatewayRequestContext> {
        GatewayResponder(router: makeRouter().buildResponder(), middleware: middleware, actorRoute: actorRoute)
    }

    /// The router with every endpoint and the gateway middleware.
    func makeRouter() -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        router.add(middleware: middleware)
        let actorRoute = actorRoute
        router.post("/v1/actors/:type/:id/:method") { request, context in
            try await actorRoute.handle(request, context: context)
        }
        router.get("/healthz") { _, _ in
            Self.json("{\"status\":\"ok\"}")
        }
        let isReady = context.isReady
        let retryAfter = settings.retryAfterSeconds
        router.get("/readyz") { _, _ in
            guard await isReady() else {
                return GatewayFailure(status: .serviceUnavailable, code: LocalityError.Code.unavailable.rawValue,
                                      message: "node has not joined the cluster", retryAfterSeconds: retryAfter).response
            }
            return Self.json("{\"ready\":true}")
        }
        ClusterRoutes(context: context, server: self).register(on: router)
        router.get("/metrics") { _, _ in
            guard let registry = LocalityMetrics.registry else {
                throw LocalityError(.unavailable, "metrics are not exported: the node did not call LocalityMetrics.bootstrap()")
            }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
        for path in ["/", "/index.html"] {
            router.get(RouterPath(path)) { _, _ in
                Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                         body: ResponseBody(byteBuffer: ByteBuffer(string: DashboardPage.html)))
            }
        }
        return router
    }

    private var middleware: GatewayMiddleware {
        GatewayMiddleware(settings: settings, metrics: metrics, rateLimiter: rateLimiter, stats: stats, logger: logger,
                          authenticator: authenticator, rejectionLog: rejectionLog)
    }

    private var actorRoute: ActorRoute {
        ActorRoute(settings: settings, invoker: context.invoker, limiter: limiter, metrics: metrics, ring: context.ring)
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// The bound port, shared with the server's start callback.
final class PortBox: Sendable {
    let value = Mutex<Int?>(nil)
}
