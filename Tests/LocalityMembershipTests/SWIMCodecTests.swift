import LocalityCore
import Testing
@testable import LocalityMembership

/// Envelopes of every message kind, built from a seeded random source.
enum SampleEnvelopes {
    static func node(_ random: inout SeededRandom, _ index: Int) -> NodeID {
        NodeID(name: "node-\(index)-\(random.next() % 1000)", uid: random.next())
    }

    static func address(_ random: inout SeededRandom) -> NodeAddress {
        NodeAddress(host: "10.0.\(random.next() % 256).\(random.next() % 256)", port: Int(random.next() % 65_535) + 1)
    }

    static func state(_ random: inout SeededRandom, _ index: Int) -> MemberState {
        let metadata = (0..<Int(random.next() % 12)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        return MemberState(
            id: node(&random, index), address: address(&random), incarnation: random.next() % 100,
            status: MemberStatus(rawValue: UInt8(random.next() % 4))!, metadata: metadata)
    }

    static func all(seed: UInt64) -> [SWIMEnvelope] {
        var random = SeededRandom(seed: seed)
        let sender = node(&random, 0)
        let senderAddress = address(&random)
        let gossip = (1...5).map { GossipUpdate(state: state(&random, $0), origin: node(&random, 9)) }
        let messages: [SWIMMessage] = [
            .ping(sequence: 7, target: node(&random, 1)),
            .pingRequest(sequence: 8, target: node(&random, 2), targetAddress: address(&random), wantsNack: true),
            .pingRequest(sequence: 9, target: node(&random, 3), targetAddress: address(&random), wantsNack: false),
            .ack(sequence: .max, target: node(&random, 4)),
            .nack(sequence: 0),
            .pushPull(isJoin: true, isReply: false, states: (1...4).map { state(&random, $0) }),
            .pushPull(isJoin: false, isReply: true, states: []),
            .gossip,
        ]
        return messages.flatMap { message in
            [SWIMEnvelope(sender: sender, senderAddress: senderAddress, message: message, gossip: []),
             SWIMEnvelope(sender: sender, senderAddress: senderAddress, message: message, gossip: gossip)]
        }
    }
}

@Suite struct SWIMCodecTests {
    @Test func everyMessageKindRoundTrips() throws {
        for envelope in SampleEnvelopes.all(seed: 42) {
            let bytes = try SWIMCodec.encode(envelope)
            #expect(bytes.first == SWIMCodec.version)
            #expect(try SWIMCodec.decode(bytes) == envelope)
        }
    }

    @Test func encodedSizesMatchRealEncodings() throws {
        var random = SeededRandom(seed: 3)
        for index in 0..<200 {
            let state = SampleEnvelopes.state(&random, index)
            let update = GossipUpdate(state: state, origin: SampleEnvelopes.node(&random, index))
            var writer = WireWriter()
            try SWIMCodec.write(state.id, to: &writer)
            #expect(writer.bytes.count == state.id.encodedSize)
            writer = WireWriter()
            try SWIMCodec.write(state.address, to: &writer)
            #expect(writer.bytes.count == state.address.encodedSize)
            writer = WireWriter()
            try SWIMCodec.write(state, to: &writer)
            #expect(writer.bytes.count == state.encodedSize)
            // A gossip update's size is what it adds to an envelope.
            let sender = NodeID(name: "s", uid: 1)
            let base = SWIMEnvelope(sender: sender, senderAddress: state.address, message: .nack(sequence: 1))
            var withUpdate = base
            withUpdate.gossip = [update]
            #expect(try SWIMCodec.encode(withUpdate).count - SWIMCodec.encode(base).count == update.encodedSize)
            #expect(try SWIMCodec.encode(base).count == SWIMCodec.headerSize(sender: sender, senderAddress: state.address) + 4)
        }
    }

    @Test func unicodeNamesKeepTheirUTF8ByteCounts() throws {
        let state = MemberState(id: NodeID(name: "nœud-ü-東京", uid: 5), address: NodeAddress(host: "::1", port: 9), incarnation: 1, status: .alive)
        var writer = WireWriter()
        try SWIMCodec.write(state, to: &writer)
        #expect(writer.bytes.count == state.encodedSize)
        var reader = WireReader(writer.bytes)
        #expect(try SWIMCodec.readMemberState(&reader) == state)
    }

    @Test func rejectsWrongVersionTruncationTrailingBytesAndOversize() throws {
        let bytes = try SWIMCodec.encode(SampleEnvelopes.all(seed: 1)[11])
        var wrongVersion = bytes
        wrongVersion[0] = 2
        for bad in [wrongVersion, Array(bytes.dropLast()), bytes + [0], [], [SWIMCodec.version]] {
            #expect(throws: LocalityError.self) { try SWIMCodec.decode(bad) }
        }
        #expect(throws: LocalityError(.badRequest, "envelope of \(bytes.count) bytes exceeds 10")) {
            try SWIMCodec.decode(bytes, maxBytes: 10)
        }
        for cut in 0..<bytes.count {
            #expect(throws: LocalityError.self) { try SWIMCodec.decode(Array(bytes[..<cut])) }
        }
    }

    @Test func aForgedCountCannotDriveAnAllocation() throws {
        // version, kind pushPull, sender, address, flags, count 65535 and nothing behind it.
        var writer = WireWriter()
        writer.write(SWIMCodec.version)
        writer.write(UInt8(4))
        try SWIMCodec.write(NodeID(name: "a", uid: 1), to: &writer)
        try SWIMCodec.write(NodeAddress(host: "h", port: 1), to: &writer)
        writer.write(UInt8(0))
        writer.write(UInt16.max)
        #expect(throws: LocalityError.self) { try SWIMCodec.decode(writer.bytes) }
    }

    @Test func encodingRejectsValuesTheFormatCannotCarry() {
        let long = String(repeating: "x", count: 256)
        let envelope = SWIMEnvelope(sender: NodeID(name: long, uid: 1), senderAddress: NodeAddress(host: "h", port: 1), message: .nack(sequence: 1))
        #expect(throws: LocalityError.self) { try SWIMCodec.encode(envelope) }
        let badPort = SWIMEnvelope(sender: NodeID(name: "a", uid: 1), senderAddress: NodeAddress(host: "h", port: 70_000), message: .nack(sequence: 1))
        #expect(throws: LocalityError.self) { try SWIMCodec.encode(badPort) }
    }

    /// 100 000 seeded random byte strings plus 50 000 mutations of valid packets: the decoder
    /// returns or throws `badRequest`, never traps; anything it accepts re-encodes to the same bytes.
    @Test func decoderSurvivesRandomAndMutatedInput() throws {
        var random = SeededRandom(seed: 0xF0F0)
        let valid = try SampleEnvelopes.all(seed: 9).map { try SWIMCodec.encode($0) }
        var accepted = 0
        var rejectedRandom = 100_000
        for round in 0..<150_000 {
            var bytes: [UInt8]
            if round < 100_000 {
                let length = Int(random.next() % 200)
                bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                if length > 1, round % 2 == 0 { bytes[0] = SWIMCodec.version; bytes[1] = UInt8(random.next() % 6) }
            } else {
                bytes = valid[Int(random.next() % UInt64(valid.count))]
                for _ in 0..<(1 + Int(random.next() % 4)) {
                    let position = Int(random.next() % UInt64(bytes.count))
                    switch random.next() % 3 {
                    case 0: bytes[position] = UInt8(truncatingIfNeeded: random.next())
                    case 1: bytes.removeSubrange(position...)
                    default: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
                    }
                    if bytes.isEmpty { break }
                }
            }
            do throws(LocalityError) {
                let envelope = try SWIMCodec.decode(bytes)
                accepted += 1
                if round < 100_000 { rejectedRandom -= 1 }
                #expect(try SWIMCodec.encode(envelope) == bytes)
            } catch {
                #expect(error.code == .badRequest)
            }
        }
        // Some mutations only touch payload values (a uid, a sequence) and stay valid.
        #expect(accepted > 0)
        #expect(accepted < 50_000)
        #expect(rejectedRandom > 99_000)
    }

    @Test func membersReplyRoundTripsAndRejectsGarbage() throws {
        var random = SeededRandom(seed: 5)
        let members = (0..<10).map { SampleEnvelopes.state(&random, $0) }
        let responder = NodeID(name: "n1", uid: 77)
        let bytes = try MembersReplyCodec.encode(responder: responder, members: members)
        let decoded = try MembersReplyCodec.decode(bytes)
        #expect(decoded.responder == responder)
        #expect(decoded.members == members)
        #expect(throws: LocalityError.self) { try MembersReplyCodec.decode(Array(bytes.dropLast())) }
    }
}
