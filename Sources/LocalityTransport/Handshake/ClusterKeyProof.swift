import Crypto
import Foundation

/// HMAC-SHA256 proofs that a side holds the cluster key.
///
/// A proof covers a role label, the prover's whole hello and the verifier's nonce. The
/// verifier's nonce is fresh, so a recorded proof is useless later (no replay); the role
/// label differs per direction, so a server's proof cannot be reflected back as a
/// client's.
///
/// Key rotation: a side proves with the primary key in force and accepts a proof made
/// with the primary or the accepted key, so two nodes mid-rotation (one still proving
/// with the old key, the other already with the new one) still connect. Built with
/// `init(currentKeys:)`, it asks for the keys in force at every proof and check, so a
/// keyring replaced at run time applies to the next handshake.
public struct ClusterKeyProof: Sendable {
    /// Which side proves.
    public enum Role: String, Sendable {
        /// The connecting side (step 3).
        case client = "locality/handshake/client"
        /// The accepting side (step 4).
        case server = "locality/handshake/server"
    }

    /// The cluster keys in force: proofs are made with `primary`; proofs made with
    /// `primary` or `accepted` verify.
    public struct Keys: Sendable {
        /// Makes proofs; accepted in checks.
        public var primary: SymmetricKey
        /// Accepted in checks only (the key being rotated in or out).
        public var accepted: SymmetricKey?

        /// The keys `primary` and, during a rotation, `accepted`.
        public init(primary: SymmetricKey, accepted: SymmetricKey? = nil) {
            self.primary = primary
            self.accepted = accepted
        }
    }

    private let keys: @Sendable () -> Keys

    /// A proof helper for `clusterKey` alone (any length; 32 random bytes recommended).
    public init(clusterKey: [UInt8]) {
        let keys = Keys(primary: SymmetricKey(data: clusterKey))
        self.keys = { keys }
    }

    /// A proof helper that reads the keys in force from `currentKeys` at every proof and
    /// check (e.g. from a keyring reloaded when its file changes). `currentKeys` must be
    /// cheap and must not block: it runs on an event loop.
    public init(currentKeys: @escaping @Sendable () -> Keys) {
        self.keys = currentKeys
    }

    /// The proof that `prover` holds the primary key, bound to `verifierNonce`.
    public func proof(role: Role, prover: HandshakeHello, verifierNonce: [UInt8]) -> [UInt8] {
        var mac = HMAC<SHA256>(key: keys().primary)
        mac.update(data: Self.transcript(role: role, prover: prover, verifierNonce: verifierNonce))
        return Array(mac.finalize())
    }

    /// Checks `proof` in constant time against the primary, then the accepted key.
    public func verify(_ proof: [UInt8], role: Role, prover: HandshakeHello, verifierNonce: [UInt8]) -> Bool {
        let transcript = Self.transcript(role: role, prover: prover, verifierNonce: verifierNonce)
        let keys = keys()
        if HMAC<SHA256>.isValidAuthenticationCode(proof, authenticating: transcript, using: keys.primary) { return true }
        guard let accepted = keys.accepted else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(proof, authenticating: transcript, using: accepted)
    }

    private static func transcript(role: Role, prover: HandshakeHello, verifierNonce: [UInt8]) -> [UInt8] {
        var bytes = Array(role.rawValue.utf8)
        bytes.append(prover.version)
        let name = Array(prover.node.name.utf8)
        bytes.append(contentsOf: withUnsafeBytes(of: UInt32(name.count).bigEndian, Array.init))
        bytes.append(contentsOf: name)
        bytes.append(contentsOf: withUnsafeBytes(of: prover.node.uid.bigEndian, Array.init))
        bytes.append(contentsOf: withUnsafeBytes(of: prover.incarnation.bigEndian, Array.init))
        bytes.append(UInt8(prover.nonce.count))
        bytes.append(contentsOf: prover.nonce)
        bytes.append(UInt8(verifierNonce.count))
        bytes.append(contentsOf: verifierNonce)
        return bytes
    }
}
