import JWTKit
import LocalityCore

/// One key the gateway verifies JWTs with, parsed when the settings are made so a bad
/// key stops the node at start rather than failing every request.
enum JWTVerificationKey: Sendable {
    case hs256([UInt8])
    case es256(ES256PublicKey)
    case rs256(JWTKit.Insecure.RSA.PublicKey)

    /// The key in a PEM `PUBLIC KEY` block: EC P-256 (ES256) or RSA (RS256).
    init(pem: String) throws(LocalityError) {
        if let key = try? ES256PublicKey(pem: pem) {
            self = .es256(key)
        } else if let key = try? JWTKit.Insecure.RSA.PublicKey(pem: pem) {
            self = .rs256(key)
        } else {
            throw LocalityError(.badRequest, "the JWT public key is not a PEM EC P-256 or RSA (2048 bits or more) public key")
        }
    }

    /// The `alg` header value the key verifies.
    var algorithm: String {
        switch self {
        case .hs256: "HS256"
        case .es256: "ES256"
        case .rs256: "RS256"
        }
    }

    /// A key collection holding only this key, as its default.
    func collection() async -> JWTKeyCollection {
        let keys = JWTKeyCollection()
        switch self {
        case .hs256(let secret): await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        case .es256(let key): await keys.add(ecdsa: key)
        case .rs256(let key): await keys.add(rsa: key, digestAlgorithm: .sha256)
        }
        return keys
    }
}
