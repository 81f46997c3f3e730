import Crypto
import Foundation
import LocalityCore
import MetricsTestKit
import Testing
@testable import LocalityMembership

/// Seal version 2: AES-256-GCM over the payload, header as additional data.
@Suite struct PacketSealEncryptionTests {
    let keyA = try! ClusterKeyring(primaryBytes: Array(repeating: 1, count: 32))
    let keyB = try! ClusterKeyring(primaryBytes: Array(repeating: 2, count: 32))
    static let marker = Array("LOCALITY-PLAINTEXT-MARKER-7f3a".utf8)

    /// A version-1 packet as the previous build sealed it: header, payload in clear,
    /// HMAC-SHA256 over both.
    static func legacySeal(_ payload: [UInt8], sender: UInt64, counter: UInt64, key: SymmetricKey) -> [UInt8] {
        var writer = WireWriter(reservingCapacity: payload.count + 50)
        writer.write(PacketSeal.legacyVersion)
        writer.write(SealedContent.swim.rawValue)
        writer.write(sender)
        writer.write(counter)
        writer.write(bytes: payload)
        writer.write(bytes: Array(HMAC<SHA256>.authenticationCode(for: writer.bytes, using: key)))
        return writer.bytes
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }

    @Test func roundTripKeepsHeaderAndPayloadAndAddsFortySixBytes() throws {
        for size in [0, 1, 15, 16, 17, 1_400, 60_000] {
            let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let sealed = PacketSeal.seal(payload, content: .membersReply, sender: 0xDEAD_BEEF, counter: 77, keyring: keyA)
            #expect(sealed.count == size + PacketSeal.overhead)
            #expect(PacketSeal.overhead == 46)
            #expect(sealed[0] == 2)
            let opened = try PacketSeal.open(sealed, keyring: keyA).get()
            #expect(opened == PacketSeal.Opened(content: .membersReply, sender: 0xDEAD_BEEF, counter: 77, payload: payload))
        }
    }

    @Test func theSameInputSealsToDifferentBytesEachTime() {
        let first = PacketSeal.seal([1, 2, 3], content: .swim, sender: 1, counter: 1, keyring: keyA)
        let second = PacketSeal.seal([1, 2, 3], content: .swim, sender: 1, counter: 1, keyring: keyA)
        #expect(first != second)  // fresh random nonce
        #expect(first.prefix(PacketSeal.headerSize) == second.prefix(PacketSeal.headerSize))
    }

    @Test func theWireCarriesNoPlaintextOfThePayload() throws {
        let payload = Array(repeating: UInt8(0x20), count: 100) + Self.marker + Array(repeating: UInt8(0x20), count: 100)
        let legacy = Self.legacySeal(payload, sender: 1, counter: 1, key: keyA.primary)
        #expect(Self.contains(legacy, Self.marker))  // the search finds the marker when it is there
        for counter in 1...50 {
            let sealed = PacketSeal.seal(payload, content: .swim, sender: 1, counter: UInt64(counter), keyring: keyA)
            #expect(!Self.contains(sealed, Self.marker))
            #expect(try PacketSeal.open(sealed, keyring: keyA).get().payload == payload)
        }
    }

    @Test func anotherKeyFailsAndTheAcceptedKeyOpens() throws {
        let sealed = PacketSeal.seal([9, 9], content: .swim, sender: 3, counter: 5, keyring: keyA)
        #expect(throws: PacketSeal.DropReasonError(.badTag)) { try PacketSeal.open(sealed, keyring: keyB).get() }
        let primaryFirst = try PacketSeal.open(sealed, keyring: keyA).get()
        #expect(!primaryFirst.openedWithAcceptedKey)
        let rotating = ClusterKeyring(primary: keyB.primary, accepted: keyA.primary)
        let viaAccepted = try PacketSeal.open(sealed, keyring: rotating).get()
        #expect(viaAccepted.payload == [9, 9])
        #expect(viaAccepted.openedWithAcceptedKey)
    }

    @Test func versionOnePacketsAreRefusedAsWrongVersion() {
        let legacy = Self.legacySeal(Array(0..<20), sender: 1, counter: 1, key: keyA.primary)
        #expect(throws: PacketSeal.DropReasonError(.wrongVersion)) { try PacketSeal.open(legacy, keyring: keyA).get() }
    }

    @Test func cipherKeysAreDerivedWithHKDFForEveryKeyLength() throws {
        for length in [ClusterKeyring.minimumKeyBytes, 32, 57, ClusterKeyring.maximumKeyBytes] {
            let raw = (0..<length).map { UInt8(truncatingIfNeeded: $0 &+ 5) }
            let keyring = try ClusterKeyring(primaryBytes: raw)
            let expected = HKDF<SHA256>.deriveKey(
                inputKeyMaterial: SymmetricKey(data: raw), info: Array("locality/gossip/aes-256-gcm/v2".utf8), outputByteCount: 32)
            #expect(keyring.primaryCipher == expected)
            #expect(keyring.primaryCipher.bitCount == 256)
            let sealed = PacketSeal.seal([1], content: .swim, sender: 1, counter: 1, keyring: keyring)
            #expect(try PacketSeal.open(sealed, keyring: ClusterKeyring(primaryBytes: raw)).get().payload == [1])
        }
    }

    /// Seeded random inputs: garbage, garbage behind a version-2 header, and valid packets
    /// cut short, extended or spliced. Each gives a drop reason; none opens, none traps.
    @Test func randomShortAndGarbageInputsGiveADropReason() {
        var random = SeededRandom(seed: 2026)
        let valid = PacketSeal.seal(Array(0..<64), content: .swim, sender: 4, counter: 9, keyring: keyA)
        var reasons: [PacketSeal.DropReason: Int] = [:]
        for round in 0..<20_000 {
            var bytes: [UInt8]
            switch round % 4 {
            case 0: bytes = (0..<Int(random.next() % 200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            case 1:
                bytes = (0..<Int(random.next() % 200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                if !bytes.isEmpty { bytes[0] = PacketSeal.version }
            case 2: bytes = Array(valid.prefix(Int(random.next() % UInt64(valid.count))))
            default:
                bytes = valid
                bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: 1 + Int(random.next() % UInt64(valid.count - 1)))
            }
            switch PacketSeal.open(bytes, keyring: keyA) {
            case .success: Issue.record("random input opened: \(bytes)")
            case .failure(let error): reasons[error.reason, default: 0] += 1
            }
        }
        #expect(reasons.values.reduce(0, +) == 20_000)
        #expect(reasons[.malformed, default: 0] > 0)
        #expect(reasons[.wrongVersion, default: 0] > 0)
        #expect(reasons[.badTag, default: 0] > 0)
    }

    @Test func aNodeCountsVersionOneOversizedAndForeignPacketsByReason() async throws {
        let metrics = TestMetrics()
        var settings = GossipSettings()
        settings.maxDatagramBytes = 1_000
        let node = try GossipMembership(
            name: "m", address: NodeAddress(host: "127.0.0.1", port: 1), seeds: [], keyring: keyA, settings: settings,
            metricsFactory: metrics)
        let envelope = SWIMEnvelope(
            sender: NodeID(name: "s", uid: 42), senderAddress: NodeAddress(host: "127.0.0.1", port: 2),
            message: .ping(sequence: 1, target: node.localNode))
        let payload = try SWIMCodec.encode(envelope)
        await node.receiveDatagram(Self.legacySeal(payload, sender: 42, counter: 1, key: keyA.primary))
        await node.receiveDatagram(PacketSeal.seal(payload, content: .swim, sender: 42, counter: 2, keyring: keyB))
        await node.receiveDatagram(PacketSeal.seal(Array(repeating: 0, count: 1_000), content: .swim, sender: 42, counter: 3, keyring: keyA))
        await node.receiveDatagram(PacketSeal.seal(payload, content: .swim, sender: 42, counter: 4, keyring: keyA))
        func dropped(_ reason: String) throws -> Int64 {
            try metrics.expectCounter("locality_gossip_packets_dropped_total", [("reason", reason)]).totalValue
        }
        #expect(try dropped("wrong_version") == 1)
        #expect(try dropped("bad_tag") == 1)
        #expect(try dropped("oversized") == 1)
        // The valid ping was answered with an ack.
        #expect(try metrics.expectCounter("locality_gossip_packets_out_total", [("transport", "udp")]).totalValue == 1)
    }
}
