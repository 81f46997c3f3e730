import Foundation
import FuzzSupport
import LocalityActors
import LocalityCore

// The binary state decoder: stored actor state records, the `BinaryValue` tree inside
// them, `BinaryDecoder` into typical state types, and routed binary calls and replies.
//
// Input: `u8 choice | bytes`. Invariants:
// - the bytes, read as a stored record (`PersistentState.value(fromStored:)` and the
//   envelope with its idempotency ledger), decode or throw `bad_request`, never trap;
//   a record that decodes re-encodes to bytes that decode the same;
// - read as a `BinaryValue`, a call or a reply, the same: decode, re-encode, decode again
//   gives the same bytes;
// - a state type that decodes (the type `choice` picks) encodes with `BinaryEncoder`
//   and decodes back to an equal value.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let choice = input.byte()
    let bytes = input.rest()

    idempotent("stored record", bytes, ActorWireDecoding.storedRecord)
    idempotent("binary value", bytes, ActorWireDecoding.binaryValue)
    idempotent("call", bytes) { bytes throws(LocalityError) in try ActorWireDecoding.invocation(bytes, isReply: false) }
    idempotent("reply", bytes) { bytes throws(LocalityError) in try ActorWireDecoding.invocation(bytes, isReply: true) }

    switch choice % 4 {
    case 0: roundTrip(PlayerState.self, bytes)
    case 1: roundTrip([String: [Int64]].self, bytes)
    case 2: roundTrip(Inventory.self, bytes)
    default: roundTrip(Optional<Set<String>>.self, bytes)
    }
    return 0
}

/// `decode` either throws `bad_request` or answers bytes it answers again unchanged.
func idempotent(_ what: String, _ bytes: [UInt8], _ decode: ([UInt8]) throws(LocalityError) -> [UInt8]) {
    let once: [UInt8]
    do {
        once = try decode(bytes)
    } catch {
        require(error.code == .badRequest, "\(what) failed with \(error.code), not bad_request")
        return
    }
    do {
        let twice = try decode(once)
        require(twice == once, "\(what) does not decode the same after re-encoding")
    } catch {
        require(false, "a re-encoded \(what) does not decode: \(error)")
    }
}

/// A stored record holding a `T` decodes to a value that survives `BinaryEncoder` and back.
func roundTrip<T: Codable & Sendable & Equatable>(_ type: T.Type, _ bytes: [UInt8]) {
    let value: T?
    do {
        value = try PersistentState<T>.value(fromStored: bytes)
    } catch let error as LocalityError {
        require(error.code == .badRequest, "decoding \(T.self) failed with \(error.code), not bad_request")
        return
    } catch {
        require(false, "decoding \(T.self) threw \(error), not a LocalityError")
        return
    }
    guard let value else { return }
    do {
        let encoded = try BinaryEncoder().encode(value)
        let again = try BinaryDecoder().decode(T.self, from: encoded)
        require(again == value, "\(T.self) does not survive encoding: \(value) became \(again)")
    } catch {
        require(false, "a decoded \(T.self) does not encode and decode: \(error)")
    }
}

/// A Double compared by its bits, so NaN equals itself.
struct Bits: Codable, Sendable, Equatable {
    var value: Double
    init(_ value: Double) { self.value = value }
    init(from decoder: any Decoder) throws { value = try decoder.singleValueContainer().decode(Double.self) }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
    static func == (lhs: Bits, rhs: Bits) -> Bool { lhs.value.bitPattern == rhs.value.bitPattern }
}

/// A typical actor state: scalars, optionals, nested collections, an enum with payloads.
struct PlayerState: Codable, Sendable, Equatable {
    enum Rank: Codable, Sendable, Equatable {
        case unranked
        case ranked(tier: UInt8, points: Int32)
        case banned(reason: String, until: Bits?)
    }
    var name: String
    var score: Int
    var rating: Bits
    var accuracy: Bits?
    var tags: [String]
    var history: [[UInt16]]
    var rank: Rank
    var friends: [String: Bool]
    var id: UUID?
}

/// A state with Foundation value types, ranges, sets and recursion.
struct Inventory: Codable, Sendable, Equatable {
    var items: [String: UInt32]
    var updated: Int64?
    var blob: Data
    var window: Range<Int>?
    var flags: Set<UInt8>
    var children: [Inventory]?
}

@main
enum StateFuzzerMain {
    static func main() {
        runFuzzer(seeds: seeds, fuzz)
    }
}

/// Real encodings of each state type, bare and inside the ledger envelope.
func seeds() -> [(name: String, bytes: [UInt8])] {
    let player = PlayerState(
        name: "alice", score: -42, rating: Bits(1523.5), accuracy: Bits(0.75), tags: ["pro", "eu"], history: [[1, 2], [], [65535]],
        rank: .ranked(tier: 3, points: 1200), friends: ["bob": true, "carol": false], id: UUID(uuid: (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)))
    let inventory = Inventory(
        items: ["sword": 1, "potion": 12], updated: 1_700_000_000_000, blob: Data([0, 1, 2, 255]),
        window: 3..<9, flags: [1, 7], children: [Inventory(items: [:], updated: nil, blob: Data(), window: nil, flags: [], children: nil)])
    let encoder = BinaryEncoder()
    let values: [(String, UInt8, [UInt8])] = [
        ("player", 0, try! encoder.encode(player)),
        ("scores", 1, try! encoder.encode(["alice": [Int64.min, 0, Int64.max], "bob": []] as [String: [Int64]])),
        ("inventory", 2, try! encoder.encode(inventory)),
        ("tag-set", 3, try! encoder.encode(Optional(Set(["a", "b"])))),
    ]
    var seeds: [(name: String, bytes: [UInt8])] = []
    for (name, choice, value) in values {
        seeds.append((name, [choice] + value))
        // The envelope: tag 0xE1, has value, varint length, value, ledger v1 with one entry
        // (key "k-1", at 1700000000000 ms, fingerprint, a kept reply).
        var envelope: [UInt8] = [0xE1, 1]
        var length = UInt64(value.count)
        while length >= 0x80 {
            envelope.append(UInt8(truncatingIfNeeded: length) | 0x80)
            length >>= 7
        }
        envelope.append(UInt8(length))
        envelope += value
        envelope += [1, 1, 3] + Array("k-1".utf8) + [0x80, 0xD0, 0x95, 0xFF, 0xBC, 0x31]
        envelope += [8, 7, 6, 5, 4, 3, 2, 1, 1, 3, 0] + Array("42".utf8)
        seeds.append(("\(name)-with-ledger", [choice] + envelope))
    }
    seeds.append(("cleared-with-ledger", [0, 0xE1, 0, 1, 1, 3] + Array("k-2".utf8) + [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
    return seeds
}
