import LocalityCore
import LocalityPlacement
import NIOCore
import Testing
@testable import LocalityRouting

@Suite("Directory wire codec")
struct DirectoryMessageTests {
    static let node = NodeID(name: "n1", uid: 42)
    static let address = ActivationAddress(node: NodeID(name: "host-é", uid: .max), epoch: 7)

    static let samples: [DirectoryMessage] = [
        .request(.lookup(key: "user-1")),
        .request(.register(key: "", address: address)),
        .request(.unregister(key: "room/☃", address: address)),
        .request(.move(key: "k", to: address)),
        .reply(.found(address)),
        .reply(.notFound),
        .reply(.registered(address)),
        .reply(.unregistered(removed: true)),
        .reply(.unregistered(removed: false)),
        .reply(.moved(from: address)),
        .reply(.rejected(.notOwner, owner: node)),
        .reply(.rejected(.overloaded, owner: nil)),
        .handOff(DirectoryHandOff(target: node, entries: [])),
        .handOff(DirectoryHandOff(target: node, entries: (0..<5).map { DirectoryEntry(key: "key-\($0)", address: address) })),
        .handOffAccepted(conflicts: 3),
    ]

    @Test func everyMessageRoundTrips() throws {
        for message in Self.samples {
            let bytes = try message.encoded()
            #expect(bytes.getInteger(at: 0, as: UInt8.self) == DirectoryMessage.serviceTag)
            #expect(try DirectoryMessage.decode(bytes) == message)
        }
    }

    @Test func everyTruncationAndTrailingByteIsABadRequest() throws {
        for message in Self.samples {
            let bytes = try message.encoded()
            for length in 0..<bytes.readableBytes {
                let cut = bytes.getSlice(at: 0, length: length)!
                #expect(throws: LocalityError.self) { try DirectoryMessage.decode(cut) }
                #expect(Self.code(decoding: cut) == .badRequest)
            }
            var longer = bytes
            longer.writeInteger(UInt8(0))
            #expect(Self.code(decoding: longer) == .badRequest)
        }
    }

    @Test func seededGarbageIsRejectedOrDecodedNeverTrapped() throws {
        var random = SeededRandom(seed: 2026)
        var decoded = 0
        for round in 0..<20_000 {
            var buffer = ByteBuffer()
            // Half the inputs start like a directory message so decoding gets past the tag.
            if round % 2 == 0 {
                buffer.writeInteger(DirectoryMessage.serviceTag)
                buffer.writeInteger(UInt8(1 + random.next() % 4))
            }
            for _ in 0..<Int(random.next() % 48) { buffer.writeInteger(UInt8(truncatingIfNeeded: random.next())) }
            do {
                let message = try DirectoryMessage.decode(buffer)
                // Whatever decodes must be a canonical encoding of itself.
                #expect(try message.encoded() == buffer)
                decoded += 1
            } catch {
                #expect(error.code == .badRequest)
            }
        }
        #expect(decoded < 20_000)
    }

    @Test func aHandOffClaimingMoreEntriesThanItCarriesIsRejectedBeforeAllocating() throws {
        var buffer = try DirectoryMessage.handOff(DirectoryHandOff(target: Self.node, entries: [])).encoded()
        buffer.moveWriterIndex(to: buffer.writerIndex - 4)
        buffer.writeInteger(UInt32(1_000_000))
        #expect(Self.code(decoding: buffer) == .badRequest)
    }

    @Test func overLongKeysAreRefusedNotTruncated() {
        let key = String(repeating: "x", count: DirectoryMessage.maxStringBytes + 1)
        #expect(throws: LocalityError(.badRequest, "key or name of 65536 bytes exceeds 65535")) {
            try DirectoryMessage.request(.lookup(key: key)).encoded()
        }
    }

    @Test func unknownErrorCodesAndInvalidUTF8AreBadRequests() throws {
        var badCode = ByteBuffer(bytes: [DirectoryMessage.serviceTag, 2, 6, 3])
        badCode.writeBytes(Array("zzz".utf8))
        badCode.writeInteger(UInt8(0))
        #expect(Self.code(decoding: badCode) == .badRequest)
        let badKey = ByteBuffer(bytes: [DirectoryMessage.serviceTag, 1, 1, 0, 2, 0xC3, 0x28])
        #expect(Self.code(decoding: badKey) == .badRequest)
    }

    static func code(decoding buffer: ByteBuffer) -> LocalityError.Code? {
        do {
            _ = try DirectoryMessage.decode(buffer)
            return nil
        } catch {
            return error.code
        }
    }
}
