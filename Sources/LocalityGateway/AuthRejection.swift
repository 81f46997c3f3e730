import HTTPTypes
import Metrics

/// Why the gateway refused a request's token (401) or its rights (403); the `reason` label
/// of `locality_gateway_auth_rejected_total`.
enum AuthRejection: String, CaseIterable, Sendable {
    /// No `Authorization` header.
    case missing
    /// Not `Bearer <token>`, or a JWT that does not parse.
    case malformed
    /// A JWT whose signature does not verify, or whose `alg` is not accepted.
    case badSignature = "bad_signature"
    /// A JWT past its `exp`.
    case expired
    /// A JWT without `exp`, before its `nbf`, or with the wrong `iss` or `aud`.
    case invalidClaims = "invalid_claims"
    /// A static token that is not in the list.
    case unknownToken = "unknown_token"
    /// A valid token that may not call this actor kind.
    case kindNotAllowed = "kind_not_allowed"
    /// A valid token that is not an admin token, on an admin path.
    case adminRequired = "admin_required"

    /// 401 when the token is missing or not valid, 403 when it is valid but lacks the right.
    var status: HTTPResponse.Status {
        switch self {
        case .kindNotAllowed, .adminRequired: .forbidden
        default: .unauthorized
        }
    }
}

/// Who a valid token speaks for: its name (static token name, or the JWT's `sub`) and rights.
struct GatewayPrincipal: Sendable {
    var name: String
    var kinds: ActorKindGrant
    var isAdmin: Bool
    /// `locality_gateway_auth_accepted_total{token=name}` (JWTs share `token="jwt"`).
    var accepted: Counter? = nil
}

/// The outcome of checking one request's token.
enum AuthCheck: Sendable {
    case accepted(GatewayPrincipal)
    /// Refused for `reason`; `detail` is for the log line (never the token).
    case rejected(AuthRejection, detail: String)
}
