import LocalityCore

/// Decodes values written by `BinaryEncoder`. Malformed or mismatched input throws
/// `LocalityError(.badRequest)`; decoding never traps.
public struct BinaryDecoder: Sendable {
    /// A stateless decoder.
    public init() {}

    /// Decodes a `T` from the whole of `bytes`.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        var reader = ByteReader(bytes)
        let value = try decode(type, from: &reader)
        guard reader.remaining == 0 else { throw LocalityError(.badRequest, "\(reader.remaining) bytes after the value") }
        return value
    }

    /// Decodes a `T` at the reader's position and moves past it.
    func decode<T: Decodable>(_ type: T.Type, from reader: inout ByteReader) throws -> T {
        try decodeValue(type, from: BinaryValue.read(from: &reader))
    }

    func decodeValue<T: Decodable>(_ type: T.Type, from value: BinaryValue) throws -> T {
        do {
            return try BinaryValueDecoding.decode(type, from: value, codingPath: [])
        } catch let error as LocalityError {
            throw error
        } catch {
            throw LocalityError(.badRequest, "cannot decode \(T.self): \(error)")
        }
    }
}

struct BinaryValueDecoding: Decoder {
    let value: BinaryValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    static func mismatch(_ expected: Any.Type, _ value: BinaryValue, _ path: [any CodingKey]) -> LocalityError {
        let where_ = path.map(\.stringValue).joined(separator: ".")
        return LocalityError(.badRequest, "expected \(expected) at '\(where_)', found \(value.kindName)")
    }

    static func decode<T: Decodable>(_ type: T.Type, from value: BinaryValue, codingPath: [any CodingKey]) throws -> T {
        if let primitive = try primitive(type, from: value, codingPath: codingPath) { return primitive }
        return try T(from: BinaryValueDecoding(value: value, codingPath: codingPath))
    }

    static func integer<I: FixedWidthInteger>(_ type: I.Type, _ value: BinaryValue, _ path: [any CodingKey]) throws -> I {
        let converted: I? = switch value {
        case .int(let raw): I(exactly: raw)
        case .uint(let raw): I(exactly: raw)
        default: nil
        }
        guard let converted else { throw mismatch(type, value, path) }
        return converted
    }

    static func primitive<T>(_ type: T.Type, from value: BinaryValue, codingPath path: [any CodingKey]) throws -> T? {
        switch type {
        case is Int.Type: return try integer(Int.self, value, path) as? T
        case is String.Type:
            guard case .string(let text) = value else { throw mismatch(type, value, path) }
            return text as? T
        case is Bool.Type:
            guard case .bool(let flag) = value else { throw mismatch(type, value, path) }
            return flag as? T
        case is Double.Type:
            switch value {
            case .double(let number): return number as? T
            case .float(let number): return Double(number) as? T
            default: throw mismatch(type, value, path)
            }
        case is Float.Type:
            guard case .float(let number) = value else { throw mismatch(type, value, path) }
            return number as? T
        case is Int64.Type: return try integer(Int64.self, value, path) as? T
        case is UInt64.Type: return try integer(UInt64.self, value, path) as? T
        case is Int32.Type: return try integer(Int32.self, value, path) as? T
        case is UInt32.Type: return try integer(UInt32.self, value, path) as? T
        case is UInt.Type: return try integer(UInt.self, value, path) as? T
        case is Int16.Type: return try integer(Int16.self, value, path) as? T
        case is UInt16.Type: return try integer(UInt16.self, value, path) as? T
        case is Int8.Type: return try integer(Int8.self, value, path) as? T
        case is UInt8.Type: return try integer(UInt8.self, value, path) as? T
        default: return nil
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .keyed(let pairs) = value else { throw Self.mismatch([String: Any].self, value, codingPath) }
        var entries: [String: BinaryValue] = [:]
        for (key, entry) in pairs { entries[key] = entry }
        return KeyedDecodingContainer(KeyedContainer<Key>(entries: entries, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw Self.mismatch([Any].self, value, codingPath) }
        return UnkeyedContainer(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleContainer(value: value, codingPath: codingPath)
    }

    struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let entries: [String: BinaryValue]
        let codingPath: [any CodingKey]

        var allKeys: [Key] { entries.keys.compactMap { Key(stringValue: $0) } }

        func contains(_ key: Key) -> Bool { entries[key.stringValue] != nil }

        private func entry(_ key: Key) throws -> BinaryValue {
            guard let entry = entries[key.stringValue] else {
                let path = (codingPath + [key]).map(\.stringValue).joined(separator: ".")
                throw LocalityError(.badRequest, "missing key '\(path)'")
            }
            return entry
        }

        func decodeNil(forKey key: Key) throws -> Bool { try entry(key) == .null }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try BinaryValueDecoding.decode(type, from: entry(key), codingPath: codingPath + [key])
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            try BinaryValueDecoding(value: entry(key), codingPath: codingPath + [key]).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try BinaryValueDecoding(value: entry(key), codingPath: codingPath + [key]).unkeyedContainer()
        }

        func superDecoder() throws -> any Decoder {
            BinaryValueDecoding(value: entries["super"] ?? .null, codingPath: codingPath)
        }

        func superDecoder(forKey key: Key) throws -> any Decoder {
            BinaryValueDecoding(value: try entry(key), codingPath: codingPath + [key])
        }
    }

    struct UnkeyedContainer: UnkeyedDecodingContainer {
        let elements: [BinaryValue]
        let codingPath: [any CodingKey]
        var currentIndex = 0

        init(elements: [BinaryValue], codingPath: [any CodingKey]) {
            self.elements = elements
            self.codingPath = codingPath
        }

        var count: Int? { elements.count }
        var isAtEnd: Bool { currentIndex >= elements.count }

        private mutating func next() throws -> BinaryValue {
            guard !isAtEnd else { throw LocalityError(.badRequest, "unkeyed container exhausted after \(elements.count) elements") }
            defer { currentIndex += 1 }
            return elements[currentIndex]
        }

        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd else { throw LocalityError(.badRequest, "unkeyed container exhausted") }
            if elements[currentIndex] == .null {
                currentIndex += 1
                return true
            }
            return false
        }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try BinaryValueDecoding.decode(type, from: next(), codingPath: codingPath)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            try BinaryValueDecoding(value: next(), codingPath: codingPath).container(keyedBy: type)
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            try BinaryValueDecoding(value: next(), codingPath: codingPath).unkeyedContainer()
        }

        mutating func superDecoder() throws -> any Decoder {
            BinaryValueDecoding(value: try next(), codingPath: codingPath)
        }
    }

    struct SingleContainer: SingleValueDecodingContainer {
        let value: BinaryValue
        let codingPath: [any CodingKey]

        func decodeNil() -> Bool { value == .null }

        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try BinaryValueDecoding.decode(type, from: value, codingPath: codingPath)
        }
    }
}

extension BinaryValue {
    var kindName: String {
        switch self {
        case .null: "nil"
        case .bool: "bool"
        case .int: "int"
        case .uint: "uint"
        case .double: "double"
        case .float: "float"
        case .string: "string"
        case .array: "array"
        case .keyed: "keyed container"
        }
    }
}
