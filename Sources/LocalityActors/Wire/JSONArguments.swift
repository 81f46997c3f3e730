import Foundation
import LocalityCore

/// The JSON arguments of one call, checked against the method's argument labels: one
/// JSON object keyed by the labels (`{"points":12,"won":true}`) or a JSON array in
/// declaration order; an empty body, `{}` or `[]` for a method without arguments.
///
/// The shape (object keys, array length) is checked once, up front; each argument is
/// then decoded with `JSONDecoder` into the parameter's own type when the target asks
/// for it (`decode(_:at:)`). Every failure is `bad_request` with a message naming the
/// argument. An unlabeled parameter (`_ x: Int`) can only be passed in the array form.
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

    /// Checks `bytes` against `labels` (the method's argument labels, `_` for unlabeled).
    init(_ bytes: [UInt8], labels: [String], method: String) throws(LocalityError) {
        guard bytes.count <= Self.maxBytes else {
            throw LocalityError(.payloadTooLarge, "arguments of \(method) are \(bytes.count) bytes, at most \(Self.maxBytes)")
        }
        let trimmed = bytes.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        self.bytes = trimmed ? Array("{}".utf8) : bytes
        self.labels = labels
        let shape: Shape
        do {
            shape = try JSONDecoder().decode(Shape.self, from: Data(self.bytes))
        } catch {
            throw LocalityError(.badRequest, "arguments of \(method) are not valid JSON: \(Self.describe(error))")
        }
        switch shape {
        case .object(let keys):
            if labels.contains("_") {
                throw LocalityError(.badRequest, "\(method) has unlabeled arguments: pass its arguments as a JSON array")
            }
            let expected = Set(labels.filter { $0 != "_" })
            if let unknown = keys.sorted().first(where: { !expected.contains($0) }) {
                let listed = labels.isEmpty ? "none" : labels.joined(separator: ", ")
                throw LocalityError(.badRequest, "\(method) has no argument '\(unknown)' (its arguments: \(listed))")
            }
            if let missing = labels.first(where: { !keys.contains($0) }) {
                throw LocalityError(.badRequest, "missing argument '\(missing)' of \(method)")
            }
            form = .object
        case .array(let count):
            guard count == labels.count else {
                throw LocalityError(.badRequest, "\(method) takes \(labels.count) arguments, the JSON array has \(count)")
            }
            form = .array
        case .other:
            throw LocalityError(.badRequest, "arguments of \(method) must be a JSON object keyed by argument label or a JSON array")
        }
    }

    /// Decodes argument `index` into `T`.
    func decode<T: Decodable>(_ type: T.Type, at index: Int) throws(LocalityError) -> T {
        guard index < labels.count else {
            throw LocalityError(.badRequest, "the method takes more arguments than its name lists")
        }
        let decoder = JSONDecoder()
        decoder.userInfo[Slot<T>.positionKey] = Position(form: form, index: index, label: labels[index])
        do {
            return try decoder.decode(Slot<T>.self, from: Data(bytes)).value
        } catch {
            let name = form == .object ? "'\(labels[index])'" : "\(index)"
            throw LocalityError(.badRequest, "argument \(name) is not a valid \(T.self): \(Self.describe(error))")
        }
    }

    /// The JSON text of a result.
    static func encodeResult<T: Encodable>(_ value: T) throws -> [UInt8] {
        Array(try JSONEncoder().encode(value))
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
            let keys = context.codingPath.dropFirst().map(\.stringValue).filter { !$0.isEmpty }
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

    /// Where one argument sits in the body.
    struct Position: Sendable {
        let form: Form
        let index: Int
        let label: String
    }

    /// Decodes the whole body and picks one argument out of it.
    struct Slot<T: Decodable>: Decodable {
        static var positionKey: CodingUserInfoKey { CodingUserInfoKey(rawValue: "locality.argument")! }
        let value: T

        init(from decoder: any Decoder) throws {
            guard let position = decoder.userInfo[Self.positionKey] as? Position else {
                throw LocalityError(.internal, "argument position missing")
            }
            switch position.form {
            case .object:
                let container = try decoder.container(keyedBy: AnyKey.self)
                value = try container.decode(T.self, forKey: AnyKey(position.label))
            case .array:
                var container = try decoder.unkeyedContainer()
                for _ in 0..<position.index { _ = try container.decode(Skip.self) }
                value = try container.decode(T.self)
            }
        }
    }

    /// The top-level shape of a body.
    enum Shape: Decodable {
        case object(Set<String>)
        case array(Int)
        case other

        init(from decoder: any Decoder) throws {
            if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
                self = .object(Set(keyed.allKeys.map(\.stringValue)))
            } else if var unkeyed = try? decoder.unkeyedContainer() {
                var count = 0
                while !unkeyed.isAtEnd {
                    _ = try unkeyed.decode(Skip.self)
                    count += 1
                }
                self = .array(count)
            } else {
                self = .other
            }
        }
    }

    /// Any JSON value, skipped.
    struct Skip: Decodable {
        init(from decoder: any Decoder) throws {}
    }

    struct AnyKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
