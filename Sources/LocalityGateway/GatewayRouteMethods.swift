import HTTPTypes
import Hummingbird

/// The methods each gateway path answers, so that a request with another method gets
/// 405 `method_not_allowed` with an `Allow` header (RFC 9110 §15.5.6) instead of 404.
/// Kept next to the routes `GatewayServer.makeRouter` and `ClusterRoutes` register; a
/// test walks docs/openapi.yaml and checks the two agree.
enum GatewayRouteMethods {
    /// Paths with fixed text and their methods (GET routes also answer HEAD).
    static let fixed: [String: [HTTPRequest.Method]] = [
        "/healthz": [.get, .head], "/readyz": [.get, .head], "/metrics": [.get, .head], "/openapi.yaml": [.get, .head],
        "/": [.get, .head], "/index.html": [.get, .head], "/v1/stats": [.get, .head],
        "/v1/cluster/members": [.get, .head], "/v1/cluster/ring": [.get, .head], "/v1/cluster/lookup": [.get, .head],
        "/v1/cluster/activations": [.get, .head],
    ]

    /// The methods `path` answers, or nil for a path the gateway does not serve.
    static func allowed(for path: String) -> [HTTPRequest.Method]? {
        if let methods = fixed[path] { return methods }
        return ActorPath(path) != nil ? [.post] : nil
    }

    /// 405 for a 404 that only means "not with this method"; any other answer unchanged.
    static func correcting(_ response: Response, for request: Request) -> Response {
        guard response.status == .notFound, let allowed = allowed(for: request.uri.path), !allowed.contains(request.method) else {
            return response
        }
        let failure = GatewayFailure(
            status: .methodNotAllowed, code: "method_not_allowed",
            message: "\(request.uri.path) answers \(allowed.map(\.rawValue).joined(separator: ", ")), not \(request.method.rawValue)")
        var corrected = failure.response
        corrected.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
        return corrected
    }
}
