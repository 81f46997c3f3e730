import Crypto
import Foundation

/// HMAC-SHA256 proofs that a side holds the cluster key.
///
/// A proof covers a role label, the prover's whole hello and the verifier's nonce. The
/// verifier's nonce is fresh, so a recorded proof is useless later (no replay); the role
/// label differs per direction, so a server's proof cannot be reflected back as a
/// client's.
public struct ClusterKeyProof: Sendable {
    /// Which side proves.
    public enum Role: String, Sendable {
        /// The connecting side (step 3).
        case client = "locality/handshake/client"
        /// The accepting side (step 4).
        case server = "locality/handshake/server"
    }

    private let key: SymmetricKey

    /// A proof helper for `clusterKey` (any length; 32 random bytes recommended).
    public init(clusterKey: [UInt8]) {
        self.key = SymmetricKey(data: clusterKey)
    }

    /// The proof that `prover` holds the key, bound to `verifierNonce`.
    public func proof(role: Role, prover: HandshakeHello, verifierNonce: [UInt8]) -> [UInt8] {
        var mac = HMAC<SHA256>(key: key)
        mac.update(data: Self.transcript(role: role, prover: prover, verifierNonce: verifierNonce))
        return Array(mac.finalize())
    }

    /// Checks `proof` in constant time.
    public func verify(_ proof: [UInt8], role: Role, prover: HandshakeHello, verifierNonce: [UInt8]) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(
            proof,
            authenticating: Self.transcript(role: role, prover: prover, verifierNonce: verifierNonce),
            using: key
        )
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
