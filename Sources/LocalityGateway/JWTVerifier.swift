import Foundation
import JWTKit
import Metrics

/// Verifies JWTs with jwt-kit: picks the key by the header's `alg` (one key collection per
/// algorithm, so a token can never be checked with another algorithm's key), checks the
/// signature, then `exp`, `nbf`, `iss` and `aud`, and reads the rights from
/// `locality_kinds` and `locality_admin`. Verified tokens are cached until their `exp`.
final class JWTVerifier: Sendable {
    let settings: GatewayJWTSettings
    let cache: VerifiedTokenCache
    /// Key collections by algorithm, made once (adding keys to a collection is async).
    private let collections: Task<[String: JWTKeyCollection], Never>

    /// Counts the requests accepted with a JWT (`locality_gateway_auth_accepted_total{token="jwt"}`).
    let accepted: Counter?

    init(settings: GatewayJWTSettings, accepted: Counter? = nil) {
        self.settings = settings
        self.accepted = accepted
        self.cache = VerifiedTokenCache(capacity: settings.cacheCapacity)
        let keys = settings.keys
        self.collections = Task {
            var collections: [String: JWTKeyCollection] = [:]
            for key in keys { collections[key.algorithm] = await key.collection() }
            return collections
        }
    }

    /// Longer tokens are verified on every request, not cached: the cache holds at most
    /// `cacheCapacity` × 4 KiB of token text (4 MiB at the default capacity).
    static let maxCachedTokenBytes = 4_096

    /// Whether `token` has the shape of a JWT (three dot-separated parts).
    static func looksLikeJWT(_ token: Substring) -> Bool {
        let count: Int? = token.utf8.withContiguousStorageIfAvailable { bytes in
            var dots = 0
            for byte in bytes where byte == UInt8(ascii: ".") { dots += 1 }
            return dots
        }
        return (count ?? token.utf8.lazy.filter { $0 == UInt8(ascii: ".") }.count) == 2
    }

    func check(_ token: String, now: Date = Date()) async -> AuthCheck {
        if let entry = cache.entry(for: token, now: now) {
            guard entry.expires > now else { return .rejected(.expired, detail: "JWT of '\(entry.principal.name)' expired") }
            return .accepted(entry.principal)
        }
        guard let algorithm = Self.algorithm(of: token) else { return .rejected(.malformed, detail: "JWT header does not parse") }
        guard let keys = await collections.value[algorithm] else {
            return .rejected(.badSignature, detail: "JWT algorithm '\(algorithm.prefix(16))' is not accepted")
        }
        let claims: GatewayClaims
        do {
            claims = try await keys.verify(token, as: GatewayClaims.self)
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            return .rejected(.badSignature, detail: "JWT signature does not verify")
        } catch {
            return .rejected(.malformed, detail: "JWT does not parse")
        }
        let name = claims.sub.map { String($0.value.prefix(64)) } ?? "jwt"
        guard let expires = claims.exp?.value else { return .rejected(.invalidClaims, detail: "JWT of '\(name)' has no exp") }
        guard expires > now else { return .rejected(.expired, detail: "JWT of '\(name)' expired") }
        if let notBefore = claims.nbf?.value, notBefore > now {
            return .rejected(.invalidClaims, detail: "JWT of '\(name)' is not valid before its nbf")
        }
        if let issuer = settings.issuer, claims.iss?.value != issuer {
            return .rejected(.invalidClaims, detail: "JWT of '\(name)' has the wrong iss")
        }
        if let audience = settings.audience, !(claims.aud?.value.contains(audience) ?? false) {
            return .rejected(.invalidClaims, detail: "JWT of '\(name)' has the wrong aud")
        }
        let principal = GatewayPrincipal(name: name, kinds: ActorKindGrant(claims.kinds ?? []), isAdmin: claims.admin ?? false,
                                         accepted: accepted)
        if token.utf8.count <= Self.maxCachedTokenBytes { cache.insert(token, .init(principal: principal, expires: expires), now: now) }
        return .accepted(principal)
    }

    /// The `alg` of the token's header, nil when the header is not base64url JSON.
    static func algorithm(of token: String) -> String? {
        guard let dot = token.utf8.firstIndex(of: UInt8(ascii: ".")) else { return nil }
        var base64 = String(token[..<dot]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let header = try? JSONDecoder().decode(Header.self, from: data) else { return nil }
        return header.alg
    }

    private struct Header: Decodable {
        var alg: String
    }
}

/// The claims the gateway reads from a JWT; the time and audience checks are done by
/// `JWTVerifier` (so each failure has its own reason), not here.
struct GatewayClaims: JWTPayload {
    var exp: ExpirationClaim?
    var nbf: NotBeforeClaim?
    var iss: IssuerClaim?
    var aud: AudienceClaim?
    var sub: SubjectClaim?
    /// Kinds the token may call, `"*"` for all.
    var kinds: [String]?
    /// Whether the token is an admin token.
    var admin: Bool?

    enum CodingKeys: String, CodingKey {
        case exp, nbf, iss, aud, sub
        case kinds = "locality_kinds"
        case admin = "locality_admin"
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
