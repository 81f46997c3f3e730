import Crypto
import Foundation
import HTTPTypes
import Metrics

/// Checks one request against `GatewayAuthSettings`: the bearer token (static or JWT), then
/// the right the path needs (`GatewayAccess`).
///
/// Static tokens cost one SHA-256 of the presented token and one dictionary lookup by
/// digest, with no allocation; digests compare word by word without early exit. Timing can
/// tell an attacker at most how the digest of *their* guess hashes, which says nothing
/// about a stored token.
final class GatewayAuthenticator: Sendable {
    private let staticTokens: [TokenDigest: GatewayPrincipal]
    let jwt: JWTVerifier?

    init(settings: GatewayAuthSettings, factory: any MetricsFactory = MetricsSystem.factory) {
        var tokens: [TokenDigest: GatewayPrincipal] = [:]
        for token in settings.tokens {
            let accepted = Counter(label: "locality_gateway_auth_accepted_total", dimensions: [("token", token.name)], factory: factory)
            tokens[TokenDigest(token.sha256)] = GatewayPrincipal(name: token.name, kinds: token.kinds, isAdmin: token.isAdmin, accepted: accepted)
        }
        self.staticTokens = tokens
        let jwtAccepted = Counter(label: "locality_gateway_auth_accepted_total", dimensions: [("token", "jwt")], factory: factory)
        self.jwt = settings.jwt.map { JWTVerifier(settings: $0, accepted: jwtAccepted) }
    }

    /// The outcome for a request to `access` carrying `authorization` (the header's value).
    func check(authorization: String?, access: GatewayAccess) async -> AuthCheck {
        if case .open = access { return .accepted(GatewayPrincipal(name: "", kinds: .only([]), isAdmin: false)) }
        guard let authorization else { return .rejected(.missing, detail: "no Authorization header") }
        guard let token = Self.bearerToken(authorization) else { return .rejected(.malformed, detail: "Authorization is not 'Bearer <token>'") }
        let outcome = await principal(for: token)
        guard case .accepted(let principal) = outcome else { return outcome }
        switch access {
        case .open:
            return outcome
        case .actor(let kind):
            guard principal.kinds.allows(kind) else {
                return .rejected(.kindNotAllowed, detail: "token '\(principal.name)' may not call kind '\(kind.prefix(64))'")
            }
        case .admin:
            guard principal.isAdmin else { return .rejected(.adminRequired, detail: "token '\(principal.name)' is not an admin token") }
        }
        return outcome
    }

    /// Who `token` speaks for: a JWT when it has a JWT's shape and JWTs are accepted, else a
    /// static token (hashed in place: no copy of the token is made).
    func principal(for token: Substring) async -> AuthCheck {
        if let jwt, JWTVerifier.looksLikeJWT(token) { return await jwt.check(String(token)) }
        let digest = token.utf8.withContiguousStorageIfAvailable { TokenDigest(SHA256.hash(data: UnsafeRawBufferPointer($0))) }
            ?? TokenDigest(SHA256.hash(data: Array(token.utf8)))
        if let principal = staticTokens[digest] { return .accepted(principal) }
        if staticTokens.isEmpty { return .rejected(.malformed, detail: "not a JWT") }
        return .rejected(.unknownToken, detail: "unknown static token")
    }

    /// The token of `Bearer <token>` (scheme in any case, RFC 6750 token68 characters), nil otherwise.
    static func bearerToken(_ value: String) -> Substring? {
        // Offsets found on the raw bytes (one pass, no allocation), then one Substring.
        let bounds: (Int, Int)?? = value.utf8.withContiguousStorageIfAvailable { bytes -> (Int, Int)? in
            guard bytes.count > 7, bytes[6] == 0x20 else { return nil }
            // "bearer" in any case (| 0x20 lowers ASCII letters).
            guard bytes[0] | 0x20 == 0x62, bytes[1] | 0x20 == 0x65, bytes[2] | 0x20 == 0x61, bytes[3] | 0x20 == 0x72,
                  bytes[4] | 0x20 == 0x65, bytes[5] | 0x20 == 0x72 else { return nil }
            var lower = 7
            var upper = bytes.count
            while lower < upper, bytes[lower] == 0x20 { lower += 1 }
            while upper > lower, bytes[upper - 1] == 0x20 { upper -= 1 }
            guard lower < upper else { return nil }
            for index in lower..<upper where !isToken68(bytes[index]) { return nil }
            return (lower, upper)
        }
        guard let bounds else {
            // Not contiguous UTF-8 (a bridged string): make a native copy and parse that.
            var copy = value
            copy.makeContiguousUTF8()
            return bearerToken(copy)
        }
        guard let (lower, upper) = bounds else { return nil }
        let utf8 = value.utf8
        return Substring(value[utf8.index(utf8.startIndex, offsetBy: lower)..<utf8.index(utf8.startIndex, offsetBy: upper)])
    }

    private static func isToken68(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="): true
        default: false
        }
    }
}

/// A SHA-256 digest as four words: hashed by its first word, compared without early exit.
struct TokenDigest: Hashable, Sendable {
    let words: (UInt64, UInt64, UInt64, UInt64)

    /// The digest in `bytes` (the first 32 are used).
    init(bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count >= 32, "a SHA-256 digest has 32 bytes")
        self.words = (bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self), bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                      bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self), bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    }

    init(_ digest: SHA256.Digest) {
        self = digest.withUnsafeBytes { TokenDigest(bytes: $0) }
    }

    /// The digest in `bytes`, which `GatewayToken` guarantees has 32 bytes.
    init(_ bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { TokenDigest(bytes: $0) }
    }

    static func == (lhs: TokenDigest, rhs: TokenDigest) -> Bool {
        ((lhs.words.0 ^ rhs.words.0) | (lhs.words.1 ^ rhs.words.1) | (lhs.words.2 ^ rhs.words.2) | (lhs.words.3 ^ rhs.words.3)) == 0
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
    }
}
