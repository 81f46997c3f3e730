import FuzzSupport
import LocalityCore
import LocalityTransport
import NIOCore

// The transport handshake: its messages and both state machines.
//
// Input: a sequence of `u8 length | handshake payload` chunks. Each chunk is decoded with
// `HandshakeMessage.read`; what decodes must decode the same after re-encoding. The
// decoded messages are then fed, in order, to a `ServerHandshake` and to a
// `ClientHandshake` holding the test key. A proof or accept of the single byte 0xFF
// stands for the genuine proof, which the harness computes, so the fuzzer reaches the
// established state without forging an HMAC. Invariants:
// - a side establishes only after a genuine proof, and names as peer the hello it took;
// - what a side sends on the way convinces a genuine other side holding the same key;
// - any decoded hello, run through a whole handshake over the wire (write, then read) with
//   a genuine peer of its version, establishes both sides, each seeing the other's hello;
// - a peer with another key is refused.

let key = ClusterKeyProof(clusterKey: Array(repeating: 0x5A, count: 32))
let otherKey = ClusterKeyProof(clusterKey: Array(repeating: 0xA5, count: 32))
let serverHello = HandshakeHello(version: 1, node: NodeID(name: "server", uid: 1), incarnation: 1, nonce: Array(repeating: 0x53, count: 32))
let clientHello = HandshakeHello(version: 1, node: NodeID(name: "client", uid: 2), incarnation: 1, nonce: Array(repeating: 0x43, count: 32))
let genuineMarker: [UInt8] = [0xFF]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    var messages: [HandshakeMessage] = []
    while input.remaining > 0 {
        var buffer = ByteBuffer(bytes: input.chunk())
        guard let message = HandshakeMessage.read(from: &buffer) else { continue }
        var encoded = ByteBuffer()
        message.write(to: &encoded)
        require(HandshakeMessage.read(from: &encoded) == message, "handshake message does not survive re-encoding: \(message)")
        messages.append(message)
    }
    runServer(messages)
    runClient(messages)
    for message in messages {
        switch message {
        case .hello(let hello), .helloReply(let hello): handshakeOverTheWire(client: hello)
        case .proof, .accept: break
        }
    }
    return 0
}

/// Feeds `messages` to a server until it refuses or establishes.
func runServer(_ messages: [HandshakeMessage]) {
    var server = ServerHandshake(local: serverHello, proofs: key)
    var client: HandshakeHello?
    for var message in messages {
        if case .hello(let hello) = message, client == nil, hello.version == serverHello.version { client = hello }
        if case .proof(genuineMarker) = message, let client {
            message = .proof(key.proof(role: .client, prover: client, verifierNonce: serverHello.nonce))
        }
        switch server.receive(message) {
        case .send(let reply):
            require(reply == .helloReply(serverHello), "server answered \(reply), not its hello")
        case .established(let peer, let send):
            guard case .proof(let proof) = message, let client else {
                require(false, "server established on \(message) without a client hello")
                return
            }
            require(key.verify(proof, role: .client, prover: client, verifierNonce: serverHello.nonce), "server accepted a wrong proof")
            require(peer == client, "server names \(peer) as peer, not \(client)")
            guard case .accept(let serverProof)? = send else {
                require(false, "server established without sending accept")
                return
            }
            var genuine = ClientHandshake(local: client, proofs: key)
            _ = genuine.receive(.helloReply(serverHello))
            require(genuine.receive(.accept(proof: serverProof)) == .established(peer: serverHello, send: nil),
                    "a genuine client does not accept the server's proof")
            return
        case .refuse:
            return
        }
    }
}

/// Feeds `messages` to a client until it refuses or establishes.
func runClient(_ messages: [HandshakeMessage]) {
    var client = ClientHandshake(local: clientHello, proofs: key)
    var server: HandshakeHello?
    for var message in messages {
        if case .helloReply(let hello) = message, server == nil, hello.version == clientHello.version { server = hello }
        if case .accept(genuineMarker) = message, let server {
            message = .accept(proof: key.proof(role: .server, prover: server, verifierNonce: clientHello.nonce))
        }
        switch client.receive(message) {
        case .send(let reply):
            guard case .proof(let proof) = reply, let server else {
                require(false, "client sent \(reply) before a hello reply")
                return
            }
            var genuine = ServerHandshake(local: server, proofs: key)
            _ = genuine.receive(.hello(clientHello))
            guard case .established(let peer, _) = genuine.receive(.proof(proof)) else {
                require(false, "a genuine server does not accept the client's proof")
                return
            }
            require(peer == clientHello, "a genuine server sees \(peer), not the client's hello")
        case .established(let peer, let send):
            guard case .accept(let proof) = message, let server else {
                require(false, "client established on \(message) without a server hello")
                return
            }
            require(key.verify(proof, role: .server, prover: server, verifierNonce: clientHello.nonce), "client accepted a wrong proof")
            require(peer == server && send == nil, "client established with \(peer), sending \(String(describing: send))")
            return
        case .refuse:
            return
        }
    }
}

/// A whole handshake between a client introducing itself with `hello` and a genuine
/// server of the same version, every message written and read back as on a connection.
func handshakeOverTheWire(client hello: HandshakeHello) {
    let server = HandshakeHello(version: hello.version, node: serverHello.node, incarnation: 7, nonce: serverHello.nonce)
    for (serverKey, sameKey) in [(key, true), (otherKey, false)] {
        var clientSide = ClientHandshake(local: hello, proofs: key)
        var serverSide = ServerHandshake(local: server, proofs: serverKey)
        guard case .send(let reply) = serverSide.receive(overTheWire(clientSide.hello)) else {
            require(false, "server refused the hello of \(hello.node)")
            return
        }
        guard case .send(let proof) = clientSide.receive(overTheWire(reply)) else {
            require(false, "client \(hello.node) refused the server's hello")
            return
        }
        let accepted = serverSide.receive(overTheWire(proof))
        guard sameKey else {
            guard case .refuse(let error) = accepted else {
                require(false, "server accepted a client with another key")
                return
            }
            require(error.code == .unauthenticated, "wrong key refused as \(error.code), not unauthenticated")
            continue
        }
        guard case .established(let peer, .some(let accept)) = accepted else {
            require(false, "server refused \(hello.node) holding the key: \(accepted)")
            return
        }
        require(peer == hello, "server sees \(peer), client sent \(hello)")
        require(clientSide.receive(overTheWire(accept)) == .established(peer: server, send: nil), "client refused the genuine server")
    }
}

/// `message` written to a handshake payload and read back.
func overTheWire(_ message: HandshakeMessage) -> HandshakeMessage {
    var buffer = ByteBuffer()
    message.write(to: &buffer)
    guard let read = HandshakeMessage.read(from: &buffer) else {
        require(false, "\(message) does not read back")
        return message
    }
    return read
}

@main
enum HandshakeFuzzerMain {
    static func main() {
        runFuzzer(seeds: seeds, fuzz)
    }
}

/// Whole handshakes as the fuzzer sees them: chunks of real message payloads.
func seeds() -> [(name: String, bytes: [UInt8])] {
    func chunks(_ messages: [HandshakeMessage]) -> [UInt8] {
        var bytes: [UInt8] = []
        for message in messages {
            var buffer = ByteBuffer()
            message.write(to: &buffer)
            bytes.append(UInt8(buffer.readableBytes))
            bytes.append(contentsOf: buffer.readableBytesView)
        }
        return bytes
    }
    return [
        ("server-side", chunks([.hello(clientHello), .proof(genuineMarker)])),
        ("client-side", chunks([.helloReply(serverHello), .accept(proof: genuineMarker)])),
        ("wrong-proof", chunks([.hello(clientHello), .proof(Array(repeating: 1, count: 32))])),
        ("real-proofs", chunks([
            .hello(clientHello),
            .proof(key.proof(role: .client, prover: clientHello, verifierNonce: serverHello.nonce)),
            .helloReply(serverHello),
            .accept(proof: key.proof(role: .server, prover: serverHello, verifierNonce: clientHello.nonce)),
        ])),
        ("out-of-order", chunks([.accept(proof: genuineMarker), .helloReply(serverHello), .hello(clientHello)])),
    ]
}
