import Foundation
import LocalityCore

/// The JSON arguments of one call, checked against the method's argument labels: one
/// JSON object keyed by the labels (`{"points":12,"won":true}`) or a JSON array in
/// declaration order; an empty body, `{}` or `[]` for a method without arguments.
///
/// The shape (object keys, array length) is checked once, up front, by one pass of
/// `JSONSyntax.topLevel` that also finds each argument's bytes; each argument is then
/// decoded with `JSONDecoder` from its own bytes into the parameter's type when the
/// target asks for it (`decode(_:at:)`). Every failure is `bad_request` with a message
/// naming the argument. An unlabeled parameter (`_ x: Int`) can only be passed in the
/// array form.
struct JSONArguments: Sendable {
    enum Form: Sendable, Equatable {
        case object
        case array
    }

    /// Largest JSON body accepted (the gateway bounds bodies first; this guards other callers).
    static let maxBytes = 1 << 20

    let bytes: [UInt8]
    let labels: [String]
    let form: Form
    /// The bytes of each argument, in parameter order.
    private let ranges: [Range<Int>]

    /// Checks `bytes` against `labels` (the method's argument labels, `_` for unlabeled).
    init(_ bytes: [UInt8], labels: [String], method: String) throws(LocalityError) {
        guard bytes.count <= Self.maxBytes else {
            throw LocalityError(.payloadTooLarge, "arguments of \(method) are \(bytes.count) bytes, at most \(Self.maxBytes)")
        }
        let trimmed = bytes.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        self.bytes = trimmed ? Array("{}".utf8) : bytes
        self.labels = labels
        guard let shape = JSONSyntax.topLevel(self.bytes) else {
            let first = self.bytes.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
            if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") || !JSONSyntax.isValue(self.bytes) {
                throw LocalityError(.badRequest, "arguments of \(method) are not valid JSON")
            }
            throw LocalityError(.badRequest, "arguments of \(method) must be a JSON object keyed by argument label or a JSON array")
        }
        switch shape {
        case .object(let members):
            if labels.contains("_") {
                throw LocalityError(.badRequest, "\(method) has unlabeled arguments: pass its arguments as a JSON array")
            }
            let expected = Set(labels)
            if let unknown = members.keys.sorted().first(where: { !expected.contains($0) }) {
                let listed = labels.isEmpty ? "none" : labels.joined(separator: ", ")
                throw LocalityError(.badRequest, "\(method) has no argument '\(unknown)' (its arguments: \(listed))")
            }
            var ranges: [Range<Int>] = []
            for label in labels {
                guard let range = members[label] else { throw LocalityError(.badRequest, "missing argument '\(label)' of \(method)") }
                ranges.append(range)
            }
            self.ranges = ranges
            form = .object
        case .array(let elements):
            guard elements.count == labels.count else {
                throw LocalityError(.badRequest, "\(method) takes \(labels.count) arguments, the JSON array has \(elements.count)")
            }
            self.ranges = elements
            form = .array
        }
    }

    /// Decodes argument `index` into `T`.
    func decode<T: Decodable>(_ type: T.Type, at index: Int) throws(LocalityError) -> T {
        guard index < labels.count, index < ranges.count else {
            throw LocalityError(.badRequest, "the method takes more arguments than its name lists")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes[ranges[index]]))
        } catch {
            let name = form == .object ? "'\(labels[index])'" : "\(index)"
            throw LocalityError(.badRequest, "argument \(name) is not a valid \(T.self): \(Self.describe(error))")
        }
    }

    /// The JSON text of a result (integers, booleans and plain strings written directly:
    /// `JSONEncoder` costs more than the rest of a small call).
    static func encodeResult<T: Encodable>(_ value: T) throws -> [UInt8] {
        switch value {
        case let value as Int: return Array(String(value).utf8)
        case let value as Int64: return Array(String(value).utf8)
        case let value as Bool: return Array((value ? "true" : "false").utf8)
        case let value as String where value.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }):
            return [UInt8(ascii: "\"")] + Array(value.utf8) + [UInt8(ascii: "\"")]
        default: return Array(try JSONEncoder().encode(value))
        }
    }

    /// The argument labels of a stable name: `recordMatch(points:won:)` → `points`, `won`.
    static func labels(ofStableName name: String) -> [String] {
        guard let open = name.firstIndex(of: "("), name.hasSuffix(")") else { return [] }
        let inner = name[name.index(after: open)..<name.index(before: name.endIndex)]
        return inner.split(separator: ":", omittingEmptySubsequences: true).map(String.init)
    }

    /// A short, readable account of a decoding error (no Swift type dumps).
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map(\.stringValue).filter { !$0.isEmpty }
            return keys.isEmpty ? "" : " at '\(keys.joined(separator: "."))'"
        }
        switch error {
        case .typeMismatch(let type, let context): return "expected \(type)\(path(context))"
        case .valueNotFound(let type, let context): return "missing \(type)\(path(context))"
        case .keyNotFound(let key, let context): return "missing key '\(key.stringValue)'\(path(context))"
        case .dataCorrupted(let context):
            let underlying = context.underlyingError.map { " (\($0.localizedDescription))" } ?? ""
            return context.debugDescription + path(context) + underlying
        @unknown default: return "\(error)"
        }
    }
}
