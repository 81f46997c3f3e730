import LocalityCore

/// The tree a `BinaryEncoder` builds and a `BinaryDecoder` reads: a self-describing,
/// tagged binary format (MessagePack-like), so optional values and keyed containers
/// decode without knowing the schema's layout in advance.
///
/// Layout: one tag byte, then
/// - `nil`, `false`, `true`: nothing;
/// - `int`: zigzag LEB128 varint; `uint`: LEB128 varint;
/// - `double`: 8 bytes little-endian IEEE 754; `float`: 4 bytes;
/// - `string`: varint byte count, UTF-8 bytes;
/// - `array`: varint count, elements;
/// - `keyed`: varint count, then (key as varint length + UTF-8, value) pairs.
///
/// Decoding is bounded: nesting deeper than `maxDepth` or counts larger than the bytes
/// left fail with `bad_request` instead of allocating.
enum BinaryValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case float(Float)
    case string(String)
    case array([BinaryValue])
    case keyed([(String, BinaryValue)])

    static func == (lhs: BinaryValue, rhs: BinaryValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.int(let a), .int(let b)): a == b
        case (.uint(let a), .uint(let b)): a == b
        case (.double(let a), .double(let b)): a.bitPattern == b.bitPattern
        case (.float(let a), .float(let b)): a.bitPattern == b.bitPattern
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.keyed(let a), .keyed(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// Deepest nesting accepted when decoding.
    static let maxDepth = 64

    private enum Tag: UInt8 {
        case null = 0, `false`, `true`, int, uint, double, float, string, array, keyed
    }

    // MARK: Writing

    func write(to bytes: inout [UInt8]) {
        switch self {
        case .null: bytes.append(Tag.null.rawValue)
        case .bool(let value): bytes.append(value ? Tag.true.rawValue : Tag.false.rawValue)
        case .int(let value):
            bytes.append(Tag.int.rawValue)
            Self.writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)), to: &bytes)
        case .uint(let value):
            bytes.append(Tag.uint.rawValue)
            Self.writeVarint(value, to: &bytes)
        case .double(let value):
            bytes.append(Tag.double.rawValue)
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        case .float(let value):
            bytes.append(Tag.float.rawValue)
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        case .string(let value):
            bytes.append(Tag.string.rawValue)
            Self.writeString(value, to: &bytes)
        case .array(let elements):
            bytes.append(Tag.array.rawValue)
            Self.writeVarint(UInt64(elements.count), to: &bytes)
            for element in elements { element.write(to: &bytes) }
        case .keyed(let pairs):
            bytes.append(Tag.keyed.rawValue)
            Self.writeVarint(UInt64(pairs.count), to: &bytes)
            for (key, value) in pairs {
                Self.writeString(key, to: &bytes)
                value.write(to: &bytes)
            }
        }
    }

    static func writeVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    static func writeString(_ value: String, to bytes: inout [UInt8]) {
        var value = value
        value.withUTF8 { utf8 in
            writeVarint(UInt64(utf8.count), to: &bytes)
            bytes.append(contentsOf: utf8)
        }
    }

    // MARK: Reading

    /// Parses one value starting at `reader`'s position.
    static func read(from reader: inout ByteReader, depth: Int = 0) throws(LocalityError) -> BinaryValue {
        guard depth < maxDepth else { throw LocalityError(.badRequest, "binary value nested deeper than \(maxDepth)") }
        guard let tag = Tag(rawValue: try reader.byte()) else {
            throw LocalityError(.badRequest, "unknown binary value tag")
        }
        switch tag {
        case .null: return .null
        case .false: return .bool(false)
        case .true: return .bool(true)
        case .int:
            let raw = try reader.varint()
            return .int(Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1))))
        case .uint: return .uint(try reader.varint())
        case .double: return .double(Double(bitPattern: try reader.fixed(UInt64.self)))
        case .float: return .float(Float(bitPattern: try reader.fixed(UInt32.self)))
        case .string: return .string(try reader.string())
        case .array:
            let count = try reader.count()
            var elements: [BinaryValue] = []
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(try read(from: &reader, depth: depth + 1)) }
            return .array(elements)
        case .keyed:
            let count = try reader.count()
            var pairs: [(String, BinaryValue)] = []
            pairs.reserveCapacity(count)
            for _ in 0..<count {
                let key = try reader.string()
                pairs.append((key, try read(from: &reader, depth: depth + 1)))
            }
            return .keyed(pairs)
        }
    }
}

/// A bounds-checked cursor over bytes; every read past the end throws `bad_request`.
struct ByteReader {
    let bytes: [UInt8]
    var position: Int

    init(_ bytes: [UInt8], position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var remaining: Int { bytes.count - position }

    mutating func byte() throws(LocalityError) -> UInt8 {
        guard position < bytes.count else { throw Self.truncated }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func varint() throws(LocalityError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            guard shift < 64 else { throw LocalityError(.badRequest, "varint longer than 64 bits") }
            result |= UInt64(next & 0x7f) << shift
            if next & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// A count of items, each at least one byte: never more than the bytes left.
    mutating func count() throws(LocalityError) -> Int {
        let value = try varint()
        guard value <= UInt64(remaining) else { throw Self.truncated }
        return Int(value)
    }

    mutating func fixed<T: FixedWidthInteger>(_ type: T.Type) throws(LocalityError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw Self.truncated }
        var value: T = 0
        for index in 0..<size { value |= T(bytes[position + index]) << (8 * index) }
        position += size
        return value
    }

    mutating func take(_ count: Int) throws(LocalityError) -> ArraySlice<UInt8> {
        guard count >= 0, remaining >= count else { throw Self.truncated }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    mutating func string() throws(LocalityError) -> String {
        let length = try count()
        let slice = try take(length)
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw LocalityError(.badRequest, "string is not valid UTF-8")
        }
        return text
    }

    static let truncated = LocalityError(.badRequest, "binary input truncated")
}
