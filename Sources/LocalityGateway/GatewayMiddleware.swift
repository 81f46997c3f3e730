import Hummingbird
import LocalityCore
import Logging

/// Wraps every request: per-client rate limit on `/v1/…`, bearer-token authentication
/// (when configured: `GatewayAuthSettings`), errors turned into the JSON error shape, and
/// the request counted and timed by route and status. The fast actor-call path of
/// `GatewayResponder` goes through it too, so no path skips authentication.
struct GatewayMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let settings: GatewaySettings
    let metrics: GatewayMetrics
    let rateLimiter: ClientRateLimiter?
    let stats: RequestStats
    let logger: Logger
    var authenticator: GatewayAuthenticator? = nil
    var rejectionLog: AuthRejectionLog? = nil

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let route = GatewayRoute(path: request.uri.path)
        let response: Response
        if request.uri.path.hasPrefix("/v1/"), let rateLimiter, case .limited(let seconds) = rateLimiter.admit(context.clientKey) {
            metrics.rejected(.rateLimited)
            if request.announcesBody { context.closeConnection(after: settings.lingerTime) }
            response = GatewayFailure(status: .tooManyRequests, code: LocalityError.Code.overloaded.rawValue,
                                      message: "rate limit exceeded for this client", retryAfterSeconds: seconds,
                                      closeConnection: request.announcesBody).response
        } else if let authenticator, let refusal = await refusal(request, context: context, authenticator: authenticator) {
            response = refusal
        } else {
            do {
                response = try await next(request, context)
            } catch {
                let failure = GatewayFailure.from(error, retryAfterSeconds: settings.retryAfterSeconds)
                if failure.status == .internalServerError {
                    logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(String(reflecting: error))"])
                }
                response = failure.response
            }
        }
        let nanoseconds = (ContinuousClock.now - start).nanosecondsClamped
        metrics.answered(route: route, status: response.status.code, nanoseconds: nanoseconds)
        // The time series shows the API traffic, not the dashboard's own polling.
        if route == .actor { stats.record(status: response.status.code, microseconds: UInt64(max(0, nanoseconds / 1_000))) }
        return response
    }

    /// The 401 or 403 answer when the request's token does not give the right its path
    /// needs; nil when it does.
    private func refusal(_ request: Request, context: Context, authenticator: GatewayAuthenticator) async -> Response? {
        let access = GatewayAccess(path: request.uri.path)
        if access == .open { return nil }
        switch await authenticator.check(authorization: request.headers[.authorization], access: access) {
        case .accepted(let principal):
            principal.accepted?.increment()
            return nil
        case .rejected(let reason, let detail):
            metrics.authRejected(reason)
            rejectionLog?.record(reason, detail: detail, path: request.uri.path, client: context.clientKey)
            if request.announcesBody { context.closeConnection(after: settings.lingerTime) }
            return GatewayFailure.auth(reason, closeConnection: request.announcesBody).response
        }
    }
}
