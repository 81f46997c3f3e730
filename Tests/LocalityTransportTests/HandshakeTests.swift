import LocalityCore
import NIOCore
import Testing
@testable import LocalityTransport

@Suite("Handshake")
struct HandshakeTests {
    private func hello(_ name: String, nonce: UInt8) -> HandshakeHello {
        HandshakeHello(version: 1, node: NodeID(name: name, uid: 7), incarnation: 3, nonce: Array(repeating: nonce, count: 32))
    }

    private func roundTrip(_ message: HandshakeMessage) -> HandshakeMessage? {
        var buffer = ByteBuffer()
        message.write(to: &buffer)
        return HandshakeMessage.read(from: &buffer)
    }

    @Test func messagesRoundTrip() {
        let messages: [HandshakeMessage] = [
            .hello(hello("a", nonce: 1)), .helloReply(hello("b", nonce: 2)), .proof([1, 2, 3]), .accept(proof: [4, 5]),
        ]
        for message in messages { #expect(roundTrip(message) == message) }
        var junk = ByteBuffer(bytes: [9, 9, 9])
        #expect(HandshakeMessage.read(from: &junk) == nil)
    }

    /// Fuzz/Corpus/handshake/regression-invalid-utf8-name: read with replacement, the name
    /// "a" + 100 invalid bytes grew to 301 bytes and did not survive re-encoding.
    @Test func aHelloWithAnInvalidUTF8NameIsMalformed() {
        var payload = ByteBuffer(bytes: [1, 1, 101, UInt8(ascii: "a")] + Array(repeating: 0xFF, count: 100))
        payload.writeInteger(UInt64(2))
        payload.writeInteger(UInt64(1))
        payload.writeBytes([16] + Array(repeating: 0x43, count: 16))
        var valid = ByteBuffer()
        HandshakeMessage.hello(hello(String(repeating: "é", count: 127), nonce: 1)).write(to: &valid)
        #expect(HandshakeMessage.read(from: &payload) == nil)
        #expect(HandshakeMessage.read(from: &valid) == .hello(hello(String(repeating: "é", count: 127), nonce: 1)))
    }

    @Test func bothSidesWithTheKeyEstablish() {
        let key = ClusterKeyProof(clusterKey: Array("secret".utf8))
        var client = ClientHandshake(local: hello("client", nonce: 1), proofs: key)
        var server = ServerHandshake(local: hello("server", nonce: 2), proofs: key)
        guard case .send(let reply) = server.receive(client.hello),
              case .send(let proof) = client.receive(reply),
              case .established(let clientSeen, .some(let accept)) = server.receive(proof),
              case .established(let serverSeen, nil) = client.receive(accept)
        else {
            Issue.record("handshake did not establish")
            return
        }
        #expect(clientSeen.node.name == "client")
        #expect(serverSeen.node.name == "server")
    }

    @Test func aClientWithoutTheKeyIsRefusedByTheServer() {
        var client = ClientHandshake(local: hello("client", nonce: 1), proofs: ClusterKeyProof(clusterKey: Array("wrong".utf8)))
        var server = ServerHandshake(local: hello("server", nonce: 2), proofs: ClusterKeyProof(clusterKey: Array("secret".utf8)))
        guard case .send(let reply) = server.receive(client.hello), case .send(let proof) = client.receive(reply) else {
            Issue.record("unexpected step")
            return
        }
        guard case .refuse(let error) = server.receive(proof) else {
            Issue.record("server accepted a wrong key")
            return
        }
        #expect(error.code == .unauthenticated)
    }

    @Test func aServerWithoutTheKeyIsRefusedByTheClient() {
        let serverKey = ClusterKeyProof(clusterKey: Array("wrong".utf8))
        var client = ClientHandshake(local: hello("client", nonce: 1), proofs: ClusterKeyProof(clusterKey: Array("secret".utf8)))
        _ = client.receive(.helloReply(hello("server", nonce: 2)))
        let forged = serverKey.proof(role: .server, prover: hello("server", nonce: 2), verifierNonce: Array(repeating: 1, count: 32))
        guard case .refuse(let error) = client.receive(.accept(proof: forged)) else {
            Issue.record("client accepted a server without the key")
            return
        }
        #expect(error.code == .unauthenticated)
    }

    @Test func aRecordedProofDoesNotVerifyAgainstAFreshNonce() {
        let key = ClusterKeyProof(clusterKey: Array("secret".utf8))
        let client = hello("client", nonce: 1)
        let recorded = key.proof(role: .client, prover: client, verifierNonce: Array(repeating: 2, count: 32))
        #expect(key.verify(recorded, role: .client, prover: client, verifierNonce: Array(repeating: 2, count: 32)))
        #expect(!key.verify(recorded, role: .client, prover: client, verifierNonce: Array(repeating: 3, count: 32)))
        #expect(!key.verify(recorded, role: .server, prover: client, verifierNonce: Array(repeating: 2, count: 32)))
    }

    @Test func backoffGrowsExponentiallyWithJitterUpToTheCap() {
        var backoff = ReconnectBackoff(baseDelay: .milliseconds(100), maxDelay: .seconds(1), random: SeededRandom(seed: 1))
        let delays = (0..<6).map { _ in backoff.nextDelay() }
        #expect(delays[0] >= .milliseconds(50) && delays[0] <= .milliseconds(100))
        #expect(delays[2] >= .milliseconds(200) && delays[2] <= .milliseconds(400))
        #expect(delays[5] >= .milliseconds(500) && delays[5] <= .seconds(1))
        backoff.reset()
        #expect(backoff.nextDelay() <= .milliseconds(100))
    }
}
