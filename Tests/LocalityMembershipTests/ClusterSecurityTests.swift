import Crypto
import LocalityCore
import Testing
@testable import LocalityMembership

@Suite struct ClusterKeyringTests {
    @Test func parsesHexAndBase64KeysWithCommentsAndASecondAcceptedKey() throws {
        let hex = "00112233445566778899aabbccddeeff"
        let keyring = try ClusterKeyring(fileText: "# primary\n\(hex)\n\n  AAECAwQFBgcICQoLDA0ODw==  \n")
        #expect(keyring.primary.withUnsafeBytes { Array($0) } == (try ClusterKeyring.decodeKeyText(hex)))
        #expect(keyring.accepted?.withUnsafeBytes { Array($0) } == Array(0...15))
    }

    @Test func rejectsShortEmptyMalformedAndTooManyKeys() {
        for text in ["", "# only a comment\n", "0011", "not base64!", "AAEC", "\(String(repeating: "ab", count: 16))\n\(String(repeating: "cd", count: 16))\n\(String(repeating: "ef", count: 16))"] {
            #expect(throws: LocalityError.self) { try ClusterKeyring(fileText: text) }
        }
    }

    @Test func base64DecodesRFC4648Vectors() {
        #expect(Base64.decode("Zm9vYmFy") == Array("foobar".utf8))
        #expect(Base64.decode("Zm9vYg==") == Array("foob".utf8))
        #expect(Base64.decode("Zm9vYmE=") == Array("fooba".utf8))
        #expect(Base64.decode("Zm9=YmE=") == nil)
        #expect(Base64.decode("Zm9vY") == nil)
    }
}

@Suite struct PacketSealTests {
    let keyA = try! ClusterKeyring(primaryBytes: Array(repeating: 1, count: 32))
    let keyB = try! ClusterKeyring(primaryBytes: Array(repeating: 2, count: 32))

    @Test func sealedPacketsOpenWithTheSameKeyOnly() throws {
        let sealed = PacketSeal.seal([1, 2, 3], content: .swim, sender: 9, counter: 4, keyring: keyA)
        #expect(sealed.count == 3 + PacketSeal.overhead)
        let opened = try PacketSeal.open(sealed, keyring: keyA).get()
        #expect(opened == PacketSeal.Opened(content: .swim, sender: 9, counter: 4, payload: [1, 2, 3]))
        #expect(throws: PacketSeal.DropReasonError(.badTag)) { try PacketSeal.open(sealed, keyring: keyB).get() }
        #expect(throws: PacketSeal.DropReasonError(.malformed)) { try PacketSeal.open([1, 2], keyring: keyA).get() }
    }

    @Test func everyFlippedBitBreaksTheTag() {
        let sealed = PacketSeal.seal(Array(0..<40), content: .membersQuery, sender: 1, counter: 1, keyring: keyA)
        for index in sealed.indices {
            for bit in 0..<8 {
                var flipped = sealed
                flipped[index] ^= UInt8(1) << bit
                // The version byte is checked before decryption; every other byte is under the tag.
                let expected: PacketSeal.DropReason = index == 0 ? .wrongVersion : .badTag
                #expect(throws: PacketSeal.DropReasonError(expected)) { try PacketSeal.open(flipped, keyring: keyA).get() }
            }
        }
    }

    @Test func rotationAcceptsTheOldKeyWhileSendingWithTheNewOne() throws {
        let rotating = ClusterKeyring(primary: keyB.primary, accepted: keyA.primary)
        let fromOld = PacketSeal.seal([7], content: .swim, sender: 1, counter: 1, keyring: keyA)
        #expect(try PacketSeal.open(fromOld, keyring: rotating).get().payload == [7])
        let fromRotating = PacketSeal.seal([8], content: .swim, sender: 1, counter: 2, keyring: rotating)
        #expect(try PacketSeal.open(fromRotating, keyring: keyB).get().payload == [8])
        #expect(throws: PacketSeal.DropReasonError(.badTag)) { try PacketSeal.open(fromRotating, keyring: keyA).get() }
    }
}

@Suite struct ReplayWindowTests {
    private func feed(_ counters: [UInt64]) -> [Bool] {
        var window = ReplayWindow()
        return counters.map { window.accept($0) }
    }

    @Test func acceptsEachCounterOnceAndRejectsZero() {
        #expect(feed([0, 1, 1, 5, 3, 3, 2, 4, 5]) == [false, true, false, true, true, false, true, true, false])
    }

    @Test func rejectsCountersOlderThanTheWindow() {
        let width = ReplayWindow.width
        #expect(feed([1000, 1000 - width + 1, 1000 - width, 5000, 1000]) == [true, true, false, true, false])
    }

    /// Against a reference model (a set of seen counters and the highest), over shifts
    /// across word boundaries.
    @Test func matchesAReferenceModelUnderReordering() {
        var random = SeededRandom(seed: 11)
        var window = ReplayWindow()
        var seen = Set<UInt64>()
        var highest: UInt64 = 0
        var mismatches = 0
        var acceptedCount = 0
        for _ in 0..<20_000 {
            let ahead = highest + 1 + random.next() % 300
            let counter = random.next() % 2 == 0 ? ahead : ahead - min(ahead - 1, random.next() % 400)
            let expected = !seen.contains(counter) && (counter > highest || highest - counter < ReplayWindow.width)
            let accepted = window.accept(counter)
            if accepted != expected { mismatches += 1 }
            if expected {
                acceptedCount += 1
                seen.insert(counter)
                highest = max(highest, counter)
            }
        }
        #expect(mismatches == 0)
        #expect(acceptedCount > 5_000)
    }

    @Test func guardTracksABoundedNumberOfSenders() {
        var table = ReplayGuard(capacity: 3)
        let results = [(1, 1), (2, 1), (3, 1), (1, 1), (4, 1), (1, 1), (3, 1)].map {
            table.accept(sender: UInt64($0.0), counter: UInt64($0.1))
        }
        // Sender 4 evicts sender 2, the least recently heard from; 1 and 3 keep their windows.
        #expect(results == [true, true, true, false, true, false, false])
        #expect(table.trackedSenders == 3)
    }
}
