import Foundation
import LocalityCore
import Testing
@testable import LocalityActors

@Suite("Binary encoding and method names")
struct WireTests {
    struct Profile: Codable, Equatable {
        enum Tier: String, Codable { case free, gold }
        var name: String
        var level: Int
        var score: Double
        var nickname: String?
        var tier: Tier
        var tags: [String]
        var counts: [String: Int]
        var history: [[Int8]]
        var flags: (Bool, UInt64)? { nil }
        private enum CodingKeys: String, CodingKey { case name, level, score, nickname, tier, tags, counts, history }
    }

    static let sample = Profile(
        name: "Ada ✓", level: -42, score: 3.5, nickname: nil, tier: .gold,
        tags: ["a", "", "long tag"], counts: ["wins": 7, "losses": 0], history: [[1, -2], [], [127]]
    )

    @Test("round trip of structs, optionals, enums, arrays, dictionaries, nested arrays")
    func roundTrip() throws {
        let bytes = try BinaryEncoder().encode(Self.sample)
        #expect(try BinaryDecoder().decode(Profile.self, from: bytes) == Self.sample)
        var withNickname = Self.sample
        withNickname.nickname = "A"
        #expect(try BinaryDecoder().decode(Profile.self, from: BinaryEncoder().encode(withNickname)) == withNickname)
        #expect(try BinaryDecoder().decode(Int.self, from: BinaryEncoder().encode(Int.min)) == Int.min)
        #expect(try BinaryDecoder().decode(UInt64.self, from: BinaryEncoder().encode(UInt64.max)) == UInt64.max)
        #expect(try BinaryDecoder().decode(Int?.self, from: BinaryEncoder().encode(Int?.none)) == nil)
        #expect(try BinaryDecoder().decode([Int?].self, from: BinaryEncoder().encode([1, nil, 3])) == [1, nil, 3])
    }

    @Test("smaller than JSON for the same value")
    func compactness() throws {
        let binary = try BinaryEncoder().encode(Self.sample)
        let json = try JSONEncoder().encode(Self.sample)
        #expect(binary.count < json.count)
        #expect(try BinaryEncoder().encode(5).count == 2)
    }

    @Test("truncated, trailing and mistyped input is bad_request, never a trap")
    func badInput() throws {
        let bytes = try BinaryEncoder().encode(Self.sample)
        for cut in 0..<bytes.count {
            #expect(throws: LocalityError.self) { try BinaryDecoder().decode(Profile.self, from: Array(bytes[..<cut])) }
        }
        #expect(throws: LocalityError.self) { try BinaryDecoder().decode(Profile.self, from: bytes + [0]) }
        #expect(throws: LocalityError.self) { try BinaryDecoder().decode(String.self, from: BinaryEncoder().encode(5)) }
        #expect(throws: LocalityError.self) { try BinaryDecoder().decode(UInt8.self, from: BinaryEncoder().encode(300)) }
        // A count far beyond the input must not allocate.
        #expect(throws: LocalityError.self) { try BinaryDecoder().decode([Int].self, from: [8, 0xff, 0xff, 0xff, 0xff, 0x0f]) }
        // Deep nesting is refused.
        #expect(throws: LocalityError.self) { try BinaryDecoder().decode([Int].self, from: [UInt8](repeating: 8, count: 200).flatMap { [$0, 1] }) }
    }

    @Test("random bytes never crash the decoder")
    func fuzz() {
        var random = SeededRandom(seed: 6)
        for _ in 0..<5_000 {
            let length = Int(random.next() % 40)
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            _ = try? BinaryDecoder().decode(Profile.self, from: bytes)
        }
    }

    @Test("methods of a kind have stable names that map back to their targets")
    func stableNames() throws {
        let system = try Fixture.system()
        let registration = try #require(system.registry.registration("counter"))
        let names = Set(registration.methodsByName.keys)
        #expect(names.isSuperset(of: ["increment(by:)", "add(_:)", "total()", "sleep(milliseconds:)"]))
        for name in names {
            let target = try registration.target(named: name)
            #expect(try registration.stableName(of: target) == name)
            #expect(target.identifier.hasPrefix("$s"))
        }
        #expect(throws: LocalityError.self) { try registration.target(named: "withdraw(amount:)") }
        // Another kind's methods do not leak in.
        #expect(!names.contains("bounce(to:remaining:)"))
    }
}
