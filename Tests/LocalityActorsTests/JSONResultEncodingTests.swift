import Foundation
import Testing
@testable import LocalityActors

/// Results written directly (integers, booleans, plain strings) read back as JSONEncoder's do.
@Suite struct JSONResultEncodingTests {
    static func roundTrip<T: Codable & Equatable>(_ value: T) throws -> Bool {
        let direct = try JSONArguments.encodeResult(value)
        return try JSONDecoder().decode(T.self, from: Data(direct)) == value
    }

    @Test func directResultsDecodeToTheSameValues() throws {
        for value in [0, -1, 42, Int.max, Int.min] { #expect(try Self.roundTrip(value)) }
        #expect(try Self.roundTrip(Int64.min))
        #expect(try Self.roundTrip(true) && Self.roundTrip(false))
        for text in ["", "hello ana", "a/b", "émoji 😀", "quote \" here", "back\\slash", "line\nbreak", "\u{01}"] {
            #expect(try Self.roundTrip(text), "\(text)")
        }
        #expect(try JSONArguments.encodeResult(12) == Array("12".utf8))
        #expect(try JSONArguments.encodeResult("x") == Array("\"x\"".utf8))
        // Anything else goes through JSONEncoder.
        #expect(try Self.roundTrip([1, 2]) && Self.roundTrip(["k": "v"]) && Self.roundTrip(2.5))
    }
}
