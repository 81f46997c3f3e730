import Foundation
import LocalityCore
import Testing

/// The gateway's body check agrees with a real JSON parser on objects and arrays.
@Suite struct JSONSyntaxTests {
    static let valid = [
        "{}", "[]", " { } ", #"{"points":12,"won":true}"#, #"[1,-2.5e+3,0.25,"x",null,false,{"a":[[]]}]"#,
        #"{"s":"tab\tesc \" \\ \/ \u00e9 \ud83d\ude00"}"#, "[0]", "[-0]", "[1E5]", "\n[\r\n1\t]\n", #"{"é":"ü"}"#,
        #"["€ 𝄞 \u20ac"]"#,
    ]
    static let invalid = [
        "", "12", #""x""#, "true", "{", "[", "{]", "[}", #"{"a"}"#, #"{"a":}"#, #"{"a":1,}"#, "[1,]", "[01]", "[1.]",
        "[.5]", "[1e]", "[+1]", "[tru]", "[nul]", #"{a:1}"#, #"["\x"]"#, #"["\u12G4"]"#, "[\"\u{01}\"]", "[1] [2]",
        "{} x", "[NaN]", "[Infinity]", #"{"a":1 "b":2}"#, "[1 2]",
    ]

    @Test func acceptsObjectsAndArraysAndRefusesTheRest() {
        for text in Self.valid { #expect(JSONSyntax.isObjectOrArray(Array(text.utf8)), "\(text)") }
        for text in Self.invalid { #expect(!JSONSyntax.isObjectOrArray(Array(text.utf8)), "\(text)") }
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "[", count: JSONSyntax.maxDepth + 1) + String(repeating: "]", count: JSONSyntax.maxDepth + 1)
        #expect(!JSONSyntax.isObjectOrArray(Array(deep.utf8)))
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(JSONSyntax.isObjectOrArray(Array(fine.utf8)))
    }

    /// Found by `scripts/fuzz json` (Fuzz/Corpus/json/regression-number-out-of-range): a
    /// number beyond Double's range is valid RFC 8259 syntax, which JSONSyntax takes and
    /// Foundation refuses ("not representable"); the owner's decoder answers bad_request.
    @Test func numbersOutOfDoubleRangeAreSyntaxThatFoundationRefuses() {
        for text in ["883e888888", "[1e400]", #"{"a":-1e999}"#] {
            #expect(JSONSyntax.isValue(Array(text.utf8)), "\(text)")
            #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) == nil, "\(text)")
        }
    }

    @Test func agreesWithJSONSerializationOnMutatedBodies() {
        var random = SeededRandom(seed: 7)
        let alphabet = Array(#"{}[]",:0123456789.-+eE truefalsnu\"#.utf8) + [0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xED, 0xA0, 0xFF]
        var checked = 0
        for base in Self.valid {
            for _ in 0..<400 {
                var bytes = Array(base.utf8)
                for _ in 0..<(1 + Int(random.next() % 3)) {
                    let position = Int(random.next() % UInt64(bytes.count + 1))
                    let byte = alphabet[Int(random.next() % UInt64(alphabet.count))]
                    switch random.next() % 3 {
                    case 0: bytes.insert(byte, at: position)
                    case 1 where position < bytes.count: bytes.remove(at: position)
                    default: if position < bytes.count { bytes[position] = byte }
                    }
                }
                let parsed = (try? JSONSerialization.jsonObject(with: Data(bytes), options: [])).map { $0 is [Any] || $0 is [String: Any] } ?? false
                let text = String(decoding: bytes, as: UTF8.self)
                // Foundation also takes a trailing comma (`[1,]`), which RFC 8259 does not.
                let lenient = parsed && text.range(of: #",\s*[\]}]"#, options: .regularExpression) != nil
                #expect(JSONSyntax.isObjectOrArray(bytes) == parsed || lenient, "\(text)")
                checked += 1
            }
        }
        #expect(checked == Self.valid.count * 400)
    }

    @Test func topLevelMembersAreTheValuesByteRanges() throws {
        func text(_ body: String, _ range: Range<Int>) -> String { String(decoding: Array(body.utf8)[range], as: UTF8.self) }
        let body = #" {"points": 12 , "won":true, "tags":["a",{"b":[1]}], "t\u00e9\n":"x", "points":13} "#
        guard case .object(let members) = try #require(JSONSyntax.topLevel(Array(body.utf8))) else { Issue.record("not an object"); return }
        #expect(Set(members.keys) == ["points", "won", "tags", "té\n"])
        #expect(text(body, try #require(members["points"])) == "13")
        #expect(text(body, try #require(members["tags"])) == #"["a",{"b":[1]}]"#)
        let array = #"[1, "two", [3], {"four":4}]"#
        guard case .array(let elements) = try #require(JSONSyntax.topLevel(Array(array.utf8))) else { Issue.record("not an array"); return }
        #expect(elements.map { text(array, $0) } == ["1", #""two""#, "[3]", #"{"four":4}"#])
        #expect(JSONSyntax.topLevel(Array("{}".utf8)) == .object([:]))
        #expect(JSONSyntax.topLevel(Array(" [ ] ".utf8)) == .array([]))
        for bad in Self.invalid { #expect(JSONSyntax.topLevel(Array(bad.utf8)) == nil, "\(bad)") }
    }
}
