import Hummingbird
import LocalityCore
import Logging

/// Wraps every request: per-client rate limit on `/v1/…`, errors turned into the JSON
/// error shape, and the request counted and timed by route and status.
struct GatewayMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let settings: GatewaySettings
    let metrics: GatewayMetrics
    let rateLimiter: ClientRateLimiter?
    let logger: Logger

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
        metrics.answered(route: route, status: response.status.code, nanoseconds: (ContinuousClock.now - start).nanosecondsClamped)
        return response
    }
}
