import LocalityCore

/// Encodes any `Encodable` into the compact tagged binary format of `BinaryValue`.
public struct BinaryEncoder: Sendable {
    /// A stateless encoder.
    public init() {}

    /// The bytes of `value`.
    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try encodeValue(value).write(to: &bytes)
        return bytes
    }

    /// Appends the bytes of `value` to `bytes`.
    public func encode<T: Encodable>(_ value: T, into bytes: inout [UInt8]) throws {
        try encodeValue(value).write(to: &bytes)
    }

    func encodeValue<T: Encodable>(_ value: T) throws -> BinaryValue {
        if let direct = BinaryValueEncoding.direct(value) { return direct }
        let root = BinaryNode()
        try value.encode(to: BinaryValueEncoding(node: root, codingPath: []))
        return root.value
    }
}

/// One node of the tree under construction; containers fill it in place.
final class BinaryNode {
    enum Content {
        case empty
        case single(BinaryValue)
        case array([BinaryNode])
        case keyed([(String, BinaryNode)])
    }

    var content: Content = .empty

    var value: BinaryValue {
        switch content {
        case .empty: .keyed([])
        case .single(let value): value
        case .array(let nodes): .array(nodes.map(\.value))
        case .keyed(let pairs): .keyed(pairs.map { ($0.0, $0.1.value) })
        }
    }
}

struct BinaryValueEncoding: Encoder {
    let node: BinaryNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// Primitive values skip the container machinery.
    static func direct<T: Encodable>(_ value: T) -> BinaryValue? {
        switch value {
        case let value as Int: .int(Int64(value))
        case let value as String: .string(value)
        case let value as Bool: .bool(value)
        case let value as Double: .double(value)
        case let value as Int64: .int(value)
        case let value as UInt64: .uint(value)
        case let value as Int32: .int(Int64(value))
        case let value as UInt32: .uint(UInt64(value))
        case let value as UInt: .uint(UInt64(value))
        case let value as Float: .float(value)
        case let value as Int16: .int(Int64(value))
        case let value as UInt16: .uint(UInt64(value))
        case let value as Int8: .int(Int64(value))
        case let value as UInt8: .uint(UInt64(value))
        default: nil
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .keyed = node.content {} else { node.content = .keyed([]) }
        return KeyedEncodingContainer(KeyedContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = node.content {} else { node.content = .array([]) }
        return UnkeyedContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(node: node, codingPath: codingPath)
    }

    static func encode<T: Encodable>(_ value: T, into node: BinaryNode, codingPath: [any CodingKey]) throws {
        if let direct = direct(value) {
            node.content = .single(direct)
        } else {
            try value.encode(to: BinaryValueEncoding(node: node, codingPath: codingPath))
        }
    }

    struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let node: BinaryNode
        let codingPath: [any CodingKey]

        private func child(_ key: Key) -> BinaryNode {
            let child = BinaryNode()
            guard case .keyed(var pairs) = node.content else { return child }
            node.content = .empty
            pairs.append((key.stringValue, child))
            node.content = .keyed(pairs)
            return child
        }

        mutating func encodeNil(forKey key: Key) throws { child(key).content = .single(.null) }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            try BinaryValueEncoding.encode(value, into: child(key), codingPath: codingPath + [key])
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            BinaryValueEncoding(node: child(key), codingPath: codingPath + [key]).container(keyedBy: keyType)
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            BinaryValueEncoding(node: child(key), codingPath: codingPath + [key]).unkeyedContainer()
        }

        mutating func superEncoder() -> any Encoder {
            BinaryValueEncoding(node: child(Key(stringValue: "super")!), codingPath: codingPath)
        }

        mutating func superEncoder(forKey key: Key) -> any Encoder {
            BinaryValueEncoding(node: child(key), codingPath: codingPath + [key])
        }
    }

    struct UnkeyedContainer: UnkeyedEncodingContainer {
        let node: BinaryNode
        let codingPath: [any CodingKey]

        var count: Int {
            if case .array(let nodes) = node.content { return nodes.count }
            return 0
        }

        private func child() -> BinaryNode {
            let child = BinaryNode()
            guard case .array(var nodes) = node.content else { return child }
            node.content = .empty
            nodes.append(child)
            node.content = .array(nodes)
            return child
        }

        mutating func encodeNil() throws { child().content = .single(.null) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            try BinaryValueEncoding.encode(value, into: child(), codingPath: codingPath)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            BinaryValueEncoding(node: child(), codingPath: codingPath).container(keyedBy: keyType)
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            BinaryValueEncoding(node: child(), codingPath: codingPath).unkeyedContainer()
        }

        mutating func superEncoder() -> any Encoder {
            BinaryValueEncoding(node: child(), codingPath: codingPath)
        }
    }

    struct SingleContainer: SingleValueEncodingContainer {
        let node: BinaryNode
        let codingPath: [any CodingKey]

        mutating func encodeNil() throws { node.content = .single(.null) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            try BinaryValueEncoding.encode(value, into: node, codingPath: codingPath)
        }
    }
}
