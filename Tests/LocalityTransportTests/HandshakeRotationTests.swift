import Crypto
import LocalityCore
import Synchronization
import Testing
@testable import LocalityTransport

/// The handshake during a cluster-key rotation: proofs with the primary, checks against
/// the primary and the accepted key, keys read at each handshake.
@Suite("Handshake key rotation")
struct HandshakeRotationTests {
    static let old = SymmetricKey(data: Array(repeating: UInt8(0xA1), count: 32))
    static let new = SymmetricKey(data: Array(repeating: UInt8(0xB2), count: 32))
    static let unknown = SymmetricKey(data: Array(repeating: UInt8(0xC3), count: 32))

    private func hello(_ name: String, nonce: UInt8) -> HandshakeHello {
        HandshakeHello(version: 1, node: NodeID(name: name, uid: 7), incarnation: 3, nonce: Array(repeating: nonce, count: 32))
    }

    private func proofs(_ primary: SymmetricKey, accepted: SymmetricKey? = nil) -> ClusterKeyProof {
        ClusterKeyProof(currentKeys: { ClusterKeyProof.Keys(primary: primary, accepted: accepted) })
    }

    /// Runs the four steps; nil when both sides established, else the refusal.
    private func handshake(client clientProofs: ClusterKeyProof, server serverProofs: ClusterKeyProof) -> LocalityError? {
        var client = ClientHandshake(local: hello("client", nonce: 1), proofs: clientProofs)
        var server = ServerHandshake(local: hello("server", nonce: 2), proofs: serverProofs)
        guard case .send(let reply) = server.receive(client.hello), case .send(let proof) = client.receive(reply) else {
            return LocalityError(.internal, "unexpected first steps")
        }
        switch server.receive(proof) {
        case .refuse(let error): return error
        case .established(_, .some(let accept)):
            switch client.receive(accept) {
            case .established: return nil
            case .refuse(let error): return error
            case .send: return LocalityError(.internal, "client wants another step")
            }
        default: return LocalityError(.internal, "server did not accept")
        }
    }

    @Test func nodesOneRotationStepApartConnectInBothDirections() {
        // The states of the procedure: 0 old key only, 1 new key accepted, 2 new key
        // primary and old accepted, 3 new key only. Nodes are at most one step apart when
        // every node finishes a step before the next starts.
        let states = [proofs(Self.old), proofs(Self.old, accepted: Self.new), proofs(Self.new, accepted: Self.old), proofs(Self.new)]
        for step in 0..<3 {
            #expect(handshake(client: states[step], server: states[step + 1]) == nil, "client at \(step), server at \(step + 1)")
            #expect(handshake(client: states[step + 1], server: states[step]) == nil, "client at \(step + 1), server at \(step)")
            #expect(handshake(client: states[step], server: states[step]) == nil, "both at \(step)")
        }
        // Two steps apart, one side cannot check the other's proof: refused.
        #expect(handshake(client: states[0], server: states[2])?.code == .unauthenticated)
        #expect(handshake(client: states[1], server: states[3])?.code == .unauthenticated)
        #expect(handshake(client: states[0], server: states[3])?.code == .unauthenticated)
    }

    @Test func aProofUnderTheAcceptedKeyVerifiesAndUnderAnUnknownKeyDoesNot() {
        let verifier = proofs(Self.new, accepted: Self.old)
        let prover = hello("p", nonce: 4)
        let nonce = Array(repeating: UInt8(9), count: 32)
        #expect(verifier.verify(proofs(Self.old).proof(role: .client, prover: prover, verifierNonce: nonce), role: .client, prover: prover, verifierNonce: nonce))
        #expect(verifier.verify(proofs(Self.new).proof(role: .client, prover: prover, verifierNonce: nonce), role: .client, prover: prover, verifierNonce: nonce))
        #expect(!verifier.verify(proofs(Self.unknown).proof(role: .client, prover: prover, verifierNonce: nonce), role: .client, prover: prover, verifierNonce: nonce))
        #expect(handshake(client: proofs(Self.unknown), server: verifier)?.code == .unauthenticated)
        #expect(handshake(client: verifier, server: proofs(Self.unknown))?.code == .unauthenticated)
    }

    @Test func afterTheOldKeyIsRemovedAnOldKeyPeerIsRefused() {
        let live = KeysBox(keys: ClusterKeyProof.Keys(primary: Self.new, accepted: Self.old))  // step 2
        let following = ClusterKeyProof(currentKeys: { live.current })
        let stepOne = proofs(Self.old, accepted: Self.new)
        #expect(handshake(client: stepOne, server: following) == nil)
        live.current = ClusterKeyProof.Keys(primary: Self.new)  // step 3, read at the next handshake
        #expect(handshake(client: stepOne, server: following)?.code == .unauthenticated)
        #expect(handshake(client: proofs(Self.old), server: following)?.code == .unauthenticated)
        #expect(handshake(client: following, server: proofs(Self.old))?.code == .unauthenticated)
        #expect(handshake(client: following, server: proofs(Self.new)) == nil)
    }
}

/// Keys replaced while handshakes read them.
private final class KeysBox: Sendable {
    private let keys: Mutex<ClusterKeyProof.Keys>

    init(keys: ClusterKeyProof.Keys) { self.keys = Mutex(keys) }

    var current: ClusterKeyProof.Keys {
        get { keys.withLock { $0 } }
        set { keys.withLock { $0 = newValue } }
    }
}
