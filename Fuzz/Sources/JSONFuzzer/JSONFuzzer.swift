import Foundation
import FuzzSupport
import LocalityActors
import LocalityCore

// The JSON argument path: `JSONSyntax` (the gateway's check and the owner's split), the
// owner's `JSONArguments` and the routed JSON call and reply.
//
// Input: `u8 choice | body`. Invariants:
// - `JSONSyntax` agrees with itself: `topLevel` exactly when `isObjectOrArray`, which
//   implies `isValue`; every member range is in bounds and holds one JSON value;
// - what it takes, Foundation's `JSONSerialization` takes too (the differential oracle; one
//   way only, Foundation also takes trailing commas; numbers out of Double's range are
//   left out, Foundation refuses them), and an object has the same keys
//   (bodies with NUL bytes, a byte-order mark or deep nesting are left out: Foundation
//   guesses encodings and has its own depth limit);
// - `JSONArguments`, for the method labels `choice` picks, accepts a body only if it is
//   JSON, answers one decoded value per label, and fails with `bad_request` otherwise;
// - the body read as a routed JSON call or reply re-encodes to bytes that decode the same.

let labelSets: [[String]] = [[], ["points", "won"], ["_", "_"], ["value"]]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let choice = Int(input.byte())
    let body = input.rest()

    let isValue = JSONSyntax.isValue(body)
    let isContainer = JSONSyntax.isObjectOrArray(body)
    let top = JSONSyntax.topLevel(body)
    require((top != nil) == isContainer, "topLevel and isObjectOrArray disagree")
    require(!isContainer || isValue, "an object or array that is not a value")
    switch top {
    case .object(let members)?:
        for range in members.values { checkMember(body, range) }
    case .array(let elements)?:
        for range in elements { checkMember(body, range) }
    case nil:
        break
    }
    compareWithFoundation(body, isValue: isValue, top: top)

    let labels = labelSets[choice % labelSets.count]
    do {
        let values = try ActorWireDecoding.jsonArguments(body, labels: labels, as: JSONValue.self)
        require(values.count == labels.count, "\(values.count) arguments for \(labels.count) labels")
        require(top != nil || body.allSatisfy(isWhitespace), "arguments accepted from a body that is not a JSON object or array")
    } catch {
        require(error.code == .badRequest || error.code == .payloadTooLarge, "JSON arguments failed with \(error.code)")
    }

    for isReply in [false, true] {
        guard let once = try? ActorWireDecoding.jsonInvocation(body, isReply: isReply) else { continue }
        let twice = try? ActorWireDecoding.jsonInvocation(once, isReply: isReply)
        require(twice == once, "a JSON \(isReply ? "reply" : "call") does not decode the same after re-encoding")
    }
    return 0
}

func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }

func checkMember(_ body: [UInt8], _ range: Range<Int>) {
    require(range.lowerBound >= 0 && range.upperBound <= body.count && !range.isEmpty, "member range \(range) outside the body")
    require(JSONSyntax.isValue(Array(body[range])), "member range \(range) is not one JSON value")
}

func compareWithFoundation(_ body: [UInt8], isValue: Bool, top: JSONSyntax.TopLevel?) {
    guard !body.contains(0), !body.starts(with: [0xEF, 0xBB, 0xBF]) else { return }
    let nesting = body.count { $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "{") }
    guard nesting < 400 else { return }
    let parsed: Any?
    do {
        parsed = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
    } catch {
        // A number out of Double's range (`1e400`) is valid syntax that Foundation refuses
        // ("Number … is not representable in Swift"); the owner's decoder then answers
        // bad_request, which is right. Found by this target in its first 10-minute run.
        if "\(error)".contains("is not representable") { return }
        parsed = nil
    }
    // One way only: Foundation's parser is lenient (it takes `{"a": 1,}`), JSONSyntax is RFC 8259.
    require(!isValue || parsed != nil, "JSONSyntax takes a body that Foundation refuses")
    if case .object(let members)? = top, let object = parsed as? [String: Any] {
        require(Set(object.keys) == Set(members.keys), "object keys differ from Foundation's: \(members.keys.sorted()) vs \(object.keys.sorted())")
    }
}

/// Any JSON value, as an argument of any type decodes it.
indirect enum JSONValue: Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let elements = try? container.decode([JSONValue].self) {
            self = .array(elements)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }
}

@main
enum JSONFuzzerMain {
    static func main() {
        runFuzzer(seeds: seeds, fuzz)
    }
}

/// Argument bodies of each form and label set, and a routed call and reply.
func seeds() -> [(name: String, bytes: [UInt8])] {
    func seed(_ name: String, choice: UInt8, _ body: String) -> (name: String, bytes: [UInt8]) {
        (name, [choice] + Array(body.utf8))
    }
    var call: [UInt8] = [2]
    call += Array(repeating: 0, count: 8)
    for text in ["PlayerStats", "alice", "recordMatch(points:won:)"] {
        call.append(UInt8(text.utf8.count))
        call += Array(text.utf8)
    }
    call += Array(#"{"points":12,"won":true}"#.utf8)
    return [
        seed("empty", choice: 0, ""),
        seed("object", choice: 1, #"{"points": 12, "won": true}"#),
        seed("array", choice: 2, #"[1.5e3, "caf\u00e9 \ud83d\ude00", null]"#),
        seed("nested", choice: 3, #"{"value": {"a": [true, false, {"b": -0.0}], "c": "\"\\\/\b\f\n\r\t"}}"#),
        seed("not-json", choice: 1, #"{"points": 12,}"#),
        ("call", [0] + call),
        ("reply", [0, 0] + Array("42".utf8)),
    ]
}
