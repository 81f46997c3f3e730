import FuzzSupport
import LocalityCore
import LocalityMembership

// The gossip codecs, before and after the seal.
//
// The same input is used three ways:
// - as a sealed packet: `PacketSeal.open` with a fixed test keyring (the seeds are sealed
//   with its keys, so the fuzzer starts from packets that open); what opens must re-seal
//   under the key that opened it to a packet of the same length (the nonce is random, so
//   not the same bytes) that opens to the same header and payload, and its payload is
//   decoded by content;
// - as a payload, decoded by `SWIMCodec` and `MembersReplyCodec` directly, so the fuzzer
//   reaches the codecs without forging tags;
// - sealed by the harness and opened again: the round trip must give back the payload.
// Invariants: nothing traps; what decodes re-encodes to exactly the same bytes (both
// formats are canonical); decoding errors are `bad_request`.

let primaryKey: [UInt8] = Array(repeating: 0x11, count: 32)
let acceptedKey: [UInt8] = Array(repeating: 0x22, count: 32)
let keyring = try! ClusterKeyring(primaryBytes: primaryKey, acceptedBytes: acceptedKey)
let primaryOnly = try! ClusterKeyring(primaryBytes: primaryKey)
let acceptedAsPrimary = try! ClusterKeyring(primaryBytes: acceptedKey)
let otherKeyring = try! ClusterKeyring(primaryBytes: Array(repeating: 0x33, count: 32))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch PacketSeal.open(bytes, keyring: keyring) {
    case .success(let opened):
        let signer = PacketSeal.open(bytes, keyring: primaryOnly).isSuccess ? primaryOnly : acceptedAsPrimary
        let resealed = PacketSeal.seal(opened.payload, content: opened.content, sender: opened.sender, counter: opened.counter, keyring: signer)
        require(resealed.count == bytes.count, "an opened packet re-seals to another length")
        guard case .success(let again) = PacketSeal.open(resealed, keyring: keyring) else {
            require(false, "a re-sealed packet does not open")
            return 0
        }
        require(again.payload == opened.payload && again.content == opened.content && again.sender == opened.sender
                    && again.counter == opened.counter, "an opened packet re-seals to another packet")
        decodePayload(opened.payload, content: opened.content)
    case .failure(let error):
        require(error.reason != .replay && error.reason != .overloaded, "open gave \(error.reason)")
    }
    decodePayload(bytes, content: .swim)
    decodePayload(bytes, content: .membersReply)

    let content = SealedContent(rawValue: UInt8(size % 3)) ?? .swim
    let sealed = PacketSeal.seal(bytes, content: content, sender: UInt64(size), counter: 42, keyring: keyring)
    guard case .success(let opened) = PacketSeal.open(sealed, keyring: keyring) else {
        require(false, "a packet sealed with the primary key does not open")
        return 0
    }
    require(opened.payload == bytes && opened.content == content && opened.sender == UInt64(size) && opened.counter == 42,
            "seal/open round trip changed the packet")
    let forged = PacketSeal.open(sealed, keyring: otherKeyring)
    require(!forged.isSuccess, "a packet opened under a key that did not seal it")
    return 0
}

/// Decodes `payload` as `content`; what decodes must re-encode to exactly `payload`.
func decodePayload(_ payload: [UInt8], content: SealedContent) {
    switch content {
    case .swim:
        let envelope: SWIMEnvelope
        do {
            envelope = try SWIMCodec.decode(payload)
        } catch {
            require(error.code == .badRequest, "SWIM decode threw \(error)")
            return
        }
        do {
            let encoded = try SWIMCodec.encode(envelope)
            require(encoded == payload, "SWIM envelope re-encodes to other bytes: \(envelope)")
        } catch {
            require(false, "a decoded SWIM envelope does not encode: \(error)")
        }
    case .membersReply:
        let reply: (responder: NodeID, members: [MemberState])
        do {
            reply = try MembersReplyCodec.decode(payload)
        } catch {
            require(error.code == .badRequest, "members reply decode threw \(error)")
            return
        }
        do {
            let encoded = try MembersReplyCodec.encode(responder: reply.responder, members: reply.members)
            require(encoded == payload, "members reply re-encodes to other bytes")
        } catch {
            require(false, "a decoded members reply does not encode: \(error)")
        }
    case .membersQuery:
        return
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}

@main
enum GossipFuzzerMain {
    static func main() {
        runFuzzer(seeds: seeds, fuzz)
    }
}

/// Envelopes of every kind and a members reply from the real encoders, sealed and bare.
func seeds() -> [(name: String, bytes: [UInt8])] {
    let a = NodeID(name: "node-a", uid: 1)
    let b = NodeID(name: "node-b", uid: 2)
    let addressA = NodeAddress(host: "127.0.0.1", port: 7946)
    let addressB = NodeAddress(host: "10.0.0.2", port: 7947)
    let alive = MemberState(id: b, address: addressB, incarnation: 5, status: .alive, metadata: Array("zone=a".utf8))
    let suspect = MemberState(id: a, address: addressA, incarnation: 9, status: .suspect)
    let gossip = [GossipUpdate(state: alive, origin: a)]
    let envelopes: [(String, SWIMEnvelope)] = [
        ("ping", SWIMEnvelope(sender: a, senderAddress: addressA, message: .ping(sequence: 1, target: b), gossip: gossip)),
        ("ping-request", SWIMEnvelope(sender: a, senderAddress: addressA, message: .pingRequest(sequence: 2, target: b, targetAddress: addressB, wantsNack: true))),
        ("ack", SWIMEnvelope(sender: b, senderAddress: addressB, message: .ack(sequence: 1, target: b))),
        ("nack", SWIMEnvelope(sender: b, senderAddress: addressB, message: .nack(sequence: 2))),
        ("push-pull", SWIMEnvelope(sender: a, senderAddress: addressA, message: .pushPull(isJoin: true, isReply: false, states: [alive, suspect]))),
        ("gossip", SWIMEnvelope(sender: a, senderAddress: addressA, message: .gossip, gossip: gossip + [GossipUpdate(state: suspect, origin: b)])),
    ]
    var seeds: [(name: String, bytes: [UInt8])] = []
    for (index, (name, envelope)) in envelopes.enumerated() {
        let payload = try! SWIMCodec.encode(envelope)
        seeds.append(("swim-\(name)", payload))
        let ring = index % 2 == 0 ? primaryOnly : acceptedAsPrimary
        seeds.append(("sealed-\(name)", PacketSeal.seal(payload, content: .swim, sender: 1, counter: UInt64(index), keyring: ring)))
    }
    let reply = try! MembersReplyCodec.encode(responder: a, members: [alive, suspect])
    seeds.append(("members-reply", reply))
    seeds.append(("sealed-members-reply", PacketSeal.seal(reply, content: .membersReply, sender: 1, counter: 7, keyring: primaryOnly)))
    seeds.append(("sealed-members-query", PacketSeal.seal([], content: .membersQuery, sender: 3, counter: 1, keyring: primaryOnly)))
    return seeds
}
