import Crypto
import LocalityCore

/// Client authentication of the gateway by bearer tokens (`Authorization: Bearer <token>`):
/// static tokens, JWTs, or both. With it on (`GatewaySettings.auth` not nil):
///
/// - `/healthz`, `/readyz`, `/openapi.yaml` and the dashboard's static page (`/`,
///   `/index.html`, which holds no data) stay open;
/// - `/v1/actors/{kind}/…` needs a token that allows `{kind}`;
/// - every other path (`/v1/cluster/*` and `/v1/stats`, which are the dashboard's data,
///   `/metrics`, unknown paths) needs an admin token.
///
/// A request without a valid token gets 401 `unauthorized` with `WWW-Authenticate: Bearer`;
/// a valid token without the right gets 403 `forbidden` (docs/gateway.md, "Authentication").
public struct GatewayAuthSettings: Sendable {
    /// Static tokens, looked up by the SHA-256 of the presented token.
    public var tokens: [GatewayToken]
    /// JWT verification; nil accepts no JWT.
    public var jwt: GatewayJWTSettings?

    /// Authentication by `tokens` and, when given, by JWTs verified with `jwt`.
    public init(tokens: [GatewayToken] = [], jwt: GatewayJWTSettings? = nil) {
        self.tokens = tokens
        self.jwt = jwt
    }
}

/// The actor kinds a token may call.
public enum ActorKindGrant: Sendable, Equatable {
    /// Every kind (`*`).
    case all
    /// These kinds only (names as in `/v1/actors/{kind}/…`, after percent-decoding).
    case only([String])

    /// The grant a list of kinds spells: `*` anywhere in it means every kind.
    public init(_ kinds: [String]) {
        self = kinds.contains("*") ? .all : .only(kinds)
    }

    /// Whether `kind` may be called (a linear scan: grants are short, and it allocates nothing).
    public func allows(_ kind: some StringProtocol) -> Bool {
        switch self {
        case .all: return true
        case .only(let kinds): return kinds.contains { $0 == kind }
        }
    }
}

/// One static token: its SHA-256 (the token itself is never stored), a name for logs and
/// metrics, the kinds it may call and whether it is an admin token.
public struct GatewayToken: Sendable {
    /// Shown in logs and in `locality_gateway_auth_accepted_total{token}`; never the token.
    public var name: String
    /// SHA-256 of the token's UTF-8 bytes, 32 bytes.
    public let sha256: [UInt8]
    /// Kinds it may call.
    public var kinds: ActorKindGrant
    /// Whether it may read `/v1/cluster/*`, `/v1/stats`, `/metrics` and the dashboard.
    public var isAdmin: Bool

    /// A token known by its SHA-256 digest (32 bytes; anything else throws `bad_request`).
    public init(name: String, sha256: [UInt8], kinds: ActorKindGrant, isAdmin: Bool = false) throws(LocalityError) {
        guard sha256.count == SHA256.byteCount else {
            throw LocalityError(.badRequest, "token '\(name)': sha256 must be 32 bytes (64 hex digits), got \(sha256.count) bytes")
        }
        self.name = name
        self.sha256 = sha256
        self.kinds = kinds
        self.isAdmin = isAdmin
    }

    /// A token given in clear (hashed here; only the digest is kept).
    public init(name: String, token: String, kinds: ActorKindGrant, isAdmin: Bool = false) {
        self.name = name
        self.sha256 = Array(SHA256.hash(data: Array(token.utf8)))
        self.kinds = kinds
        self.isAdmin = isAdmin
    }
}

/// How JWTs are verified: the keys (an HS256 secret and/or one ES256 or RS256 public key),
/// the `iss` and `aud` a token must carry when set, and the bound of the cache of
/// verified tokens.
///
/// A token must be signed by a configured key with the algorithm its header names
/// (`HS256`, `ES256` or `RS256`; any other `alg`, `none` included, is refused), carry `exp`
/// in the future and, if it has `nbf`, one in the past. Claims `locality_kinds` (a list of
/// kind names, `"*"` for all; absent: none) and `locality_admin` (a boolean; absent: false)
/// give its rights; `sub` names it in logs.
public struct GatewayJWTSettings: Sendable {
    /// Required `iss`, or nil to accept any.
    public var issuer: String?
    /// Required `aud` (one of the token's audiences), or nil to accept any.
    public var audience: String?
    /// Most verified tokens kept, so a token is verified once and then only looked up until
    /// its `exp`. A full cache first drops expired entries, then an arbitrary one; tokens
    /// over 4 KiB are not cached. Default 1,024 (at most 4 MiB of token text).
    public var cacheCapacity: Int
    let keys: [JWTVerificationKey]

    /// Settings with an HMAC secret (HS256) and/or a PEM public key (`BEGIN PUBLIC KEY`,
    /// EC P-256 for ES256 or RSA of 2048 bits or more for RS256). Throws `bad_request` when
    /// neither is given, the secret is shorter than 32 bytes, or the PEM is not such a key.
    public init(
        hmacSecret: [UInt8]? = nil, publicKeyPEM: String? = nil, issuer: String? = nil, audience: String? = nil, cacheCapacity: Int = 1_024
    ) throws(LocalityError) {
        var keys: [JWTVerificationKey] = []
        if let hmacSecret {
            guard hmacSecret.count >= 32 else {
                throw LocalityError(.badRequest, "the JWT HMAC secret has \(hmacSecret.count) bytes; HS256 needs at least 32")
            }
            keys.append(.hs256(hmacSecret))
        }
        if let publicKeyPEM { keys.append(try JWTVerificationKey(pem: publicKeyPEM)) }
        guard !keys.isEmpty else { throw LocalityError(.badRequest, "JWT verification needs an HMAC secret or a public key") }
        guard cacheCapacity >= 1 else { throw LocalityError(.badRequest, "the JWT cache capacity must be at least 1") }
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.cacheCapacity = cacheCapacity
    }

    /// The JWT algorithms these settings accept (`HS256`, `ES256`, `RS256`).
    public var algorithms: [String] { keys.map(\.algorithm) }
}
