import LocalityCore

/// What the shell does after feeding a handshake message to `ClientHandshake` or
/// `ServerHandshake`.
public enum HandshakeStep: Sendable, Equatable {
    /// Send this message and wait for the next one.
    case send(HandshakeMessage)
    /// Send this message (if any); the peer is authenticated.
    case established(peer: HandshakeHello, send: HandshakeMessage?)
    /// Refuse: send an error frame with this error, then close.
    case refuse(LocalityError)
}

/// The client side of the handshake (steps 1 and 3, check of step 4) as a pure value:
/// no IO, the nonce is handed in.
public struct ClientHandshake: Sendable {
    private let local: HandshakeHello
    private let proofs: ClusterKeyProof
    private var server: HandshakeHello?

    /// A client that introduces itself with `local` and proves the key with `proofs`.
    public init(local: HandshakeHello, proofs: ClusterKeyProof) {
        self.local = local
        self.proofs = proofs
    }

    /// Step 1.
    public var hello: HandshakeMessage { .hello(local) }

    /// Feeds the server's next message: answers the hello reply with a proof, checks the server's proof; anything else, a version mismatch or a wrong proof refuses.
    public mutating func receive(_ message: HandshakeMessage) -> HandshakeStep {
        switch (message, server) {
        case (.helloReply(let hello), nil):
            guard hello.version == local.version else {
                return .refuse(LocalityError(.badRequest, "protocol version \(hello.version) is not \(local.version)"))
            }
            server = hello
            return .send(.proof(proofs.proof(role: .client, prover: local, verifierNonce: hello.nonce)))
        case (.accept(let proof), .some(let hello)):
            guard proofs.verify(proof, role: .server, prover: hello, verifierNonce: local.nonce) else {
                return .refuse(LocalityError(.unauthenticated, "server \(hello.node) did not prove the cluster key"))
            }
            return .established(peer: hello, send: nil)
        default:
            return .refuse(LocalityError(.badRequest, "unexpected handshake step"))
        }
    }
}

/// The server side of the handshake (step 2, check of step 3, step 4) as a pure value:
/// no IO, the nonce is handed in.
public struct ServerHandshake: Sendable {
    private let local: HandshakeHello
    private let proofs: ClusterKeyProof
    private var client: HandshakeHello?

    /// A server that introduces itself with `local` and proves the key with `proofs`.
    public init(local: HandshakeHello, proofs: ClusterKeyProof) {
        self.local = local
        self.proofs = proofs
    }

    /// Feeds the client's next message: answers the hello, checks the client's proof and accepts with its own; anything else, a version mismatch or a wrong proof refuses.
    public mutating func receive(_ message: HandshakeMessage) -> HandshakeStep {
        switch (message, client) {
        case (.hello(let hello), nil):
            guard hello.version == local.version else {
                return .refuse(LocalityError(.badRequest, "protocol version \(hello.version) is not \(local.version)"))
            }
            client = hello
            return .send(.helloReply(local))
        case (.proof(let proof), .some(let hello)):
            guard proofs.verify(proof, role: .client, prover: hello, verifierNonce: local.nonce) else {
                return .refuse(LocalityError(.unauthenticated, "client \(hello.node) did not prove the cluster key"))
            }
            return .established(
                peer: hello,
                send: .accept(proof: proofs.proof(role: .server, prover: local, verifierNonce: hello.nonce))
            )
        default:
            return .refuse(LocalityError(.badRequest, "unexpected handshake step"))
        }
    }
}
