import LocalityCore

/// Reads the gossip wire format from untrusted bytes. Every read checks the remaining
/// length first and throws `LocalityError(.badRequest, …)` instead of trapping; no
/// allocation is sized by a length field before that length is checked against the bytes
/// actually present.
public struct WireReader {
    private let bytes: [UInt8]
    /// Index of the next byte to read.
    public private(set) var offset: Int

    /// A reader over `bytes`, starting at `offset`.
    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    /// Bytes not read yet.
    public var remaining: Int { bytes.count - offset }

    private mutating func need(_ count: Int, _ field: String) throws(LocalityError) {
        guard count >= 0, remaining >= count else {
            throw LocalityError(.badRequest, "truncated: \(field) needs \(count) bytes, \(remaining) left")
        }
    }

    /// Reads one byte; `field` names it in the error.
    public mutating func readUInt8(_ field: String) throws(LocalityError) -> UInt8 {
        try need(1, field)
        defer { offset += 1 }
        return bytes[offset]
    }

    /// Reads a big-endian `u16`.
    public mutating func readUInt16(_ field: String) throws(LocalityError) -> UInt16 {
        try need(2, field)
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    /// Reads a big-endian `u32`.
    public mutating func readUInt32(_ field: String) throws(LocalityError) -> UInt32 {
        try need(4, field)
        var value: UInt32 = 0
        for index in 0..<4 { value = value << 8 | UInt32(bytes[offset + index]) }
        offset += 4
        return value
    }

    /// Reads a big-endian `u64`.
    public mutating func readUInt64(_ field: String) throws(LocalityError) -> UInt64 {
        try need(8, field)
        var value: UInt64 = 0
        for index in 0..<8 { value = value << 8 | UInt64(bytes[offset + index]) }
        offset += 8
        return value
    }

    /// Reads `count` bytes, after checking that they are there.
    public mutating func readBytes(_ count: Int, _ field: String) throws(LocalityError) -> [UInt8] {
        try need(count, field)
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    /// `u8 length, UTF-8`; rejects invalid UTF-8.
    public mutating func readShortString(_ field: String) throws(LocalityError) -> String {
        let length = Int(try readUInt8(field))
        try need(length, field)
        let slice = bytes[offset..<(offset + length)]
        offset += length
        guard let string = String(validating: slice, as: UTF8.self) else {
            throw LocalityError(.badRequest, "\(field) is not valid UTF-8")
        }
        return string
    }

    /// A `u16` element count, checked against the bytes left: `count × minimumElementSize`
    /// must fit, so a forged count cannot drive a large allocation.
    public mutating func readCount(_ field: String, minimumElementSize: Int) throws(LocalityError) -> Int {
        let count = Int(try readUInt16(field))
        guard count * minimumElementSize <= remaining else {
            throw LocalityError(.badRequest, "\(field) count \(count) cannot fit in \(remaining) bytes")
        }
        return count
    }

    /// Throws unless every byte was consumed.
    public func expectEnd() throws(LocalityError) {
        guard remaining == 0 else { throw LocalityError(.badRequest, "\(remaining) trailing bytes") }
    }
}
