import LocalityCore

/// Appends big-endian integers and length-prefixed strings to a byte array
/// (the gossip wire format documented at the bottom of `SWIMMessage.swift`).
public struct WireWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    /// An empty writer with room for `capacity` bytes.
    public init(reservingCapacity capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Appends one byte.
    public mutating func write(_ value: UInt8) { bytes.append(value) }

    /// Appends a big-endian `u16`.
    public mutating func write(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    /// Appends a big-endian `u32`.
    public mutating func write(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    /// Appends a big-endian `u64`.
    public mutating func write(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    /// Appends raw bytes, without a length.
    public mutating func write(bytes other: some Sequence<UInt8>) { bytes.append(contentsOf: other) }

    /// `u8 length, UTF-8`; throws `badRequest` for strings over 255 bytes.
    public mutating func writeShortString(_ string: String, field: String) throws(LocalityError) {
        let utf8 = Array(string.utf8)
        guard utf8.count <= Int(UInt8.max) else {
            throw LocalityError(.badRequest, "\(field) is \(utf8.count) bytes, the wire allows at most 255")
        }
        write(UInt8(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// A count as `u16`; throws `badRequest` above 65 535.
    public mutating func writeCount(_ count: Int, field: String) throws(LocalityError) {
        guard count >= 0, count <= Int(UInt16.max) else {
            throw LocalityError(.badRequest, "\(field) count \(count) exceeds 65535")
        }
        write(UInt16(count))
    }
}
