import HTTPTypes
import Hummingbird
import LocalityCore
import LocalityHummingbird
import LocalityRouting
import LocalityTransport

/// The example's HTTP routes, unchanged by clustering: `GET /limit/{user}` takes a token
/// from the user's bucket and answers 200 (allowed) or 429, naming the node that
/// answered. The `HandleOrForwardMiddleware` in front makes the route sticky.
enum RateLimiterService {
    static func router(
        node: NodeID, buckets: TokenBuckets, localityRouter: LocalityRouting.Router,
        forwarding: HTTPForwarding<BasicRequestContext>
    ) -> Hummingbird.Router<BasicRequestContext> {
        let router = Hummingbird.Router(context: BasicRequestContext.self)
        router.add(middleware: HandleOrForwardMiddleware(router: localityRouter, forwarding: forwarding) { request, _ in
            // The user is the second path component of /limit/{user}.
            let parts = request.uri.path.split(separator: "/")
            return parts.count == 2 && parts[0] == "limit" ? String(parts[1]) : nil
        })
        router.get("/limit/:user") { _, context -> Response in
            let user = try context.parameters.require("user")
            let (allowed, remaining) = try await buckets.take(user)
            let body = "{\"user\":\"\(user)\",\"allowed\":\(allowed),\"remaining\":\(Int(remaining)),\"node\":\"\(node.name)\"}"
            return Response(
                status: allowed ? .ok : .tooManyRequests,
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: body))
            )
        }
        return router
    }
}
