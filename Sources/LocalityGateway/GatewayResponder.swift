import Hummingbird

/// The gateway's responder: actor calls (`POST /v1/actors/{type}/{id}/{method}`) go
/// straight to the actor route through the gateway middleware, without the router's
/// trie (a tenth of the per-request work in process, measured with perf); every other
/// request, and any path the fast match does not take, goes to the router, which has the
/// same middleware and the same actor route.
struct GatewayResponder: HTTPResponder {
    let router: RouterResponder<GatewayRequestContext>
    let middleware: GatewayMiddleware
    let actorRoute: ActorRoute

    func respond(to request: Request, context: GatewayRequestContext) async throws -> Response {
        guard request.method == .post, let path = ActorPath(request.uri.path) else {
            return GatewayRouteMethods.correcting(try await router.respond(to: request, context: context), for: request)
        }
        let actorRoute = actorRoute
        return try await middleware.handle(request, context: context) { request, context in
            try await actorRoute.handle(request, context: context, path: path)
        }
    }
}
