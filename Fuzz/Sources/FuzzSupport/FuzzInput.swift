/// The fuzzer's bytes read as a stream of choices: each read takes bytes from the front
/// and answers zeros once they run out, so every input, however short, is a valid run.
public struct FuzzInput {
    /// All the input's bytes.
    public let bytes: [UInt8]
    /// Index of the next unread byte.
    public private(set) var offset = 0

    /// The input libFuzzer hands to `LLVMFuzzerTestOneInput`.
    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        self.bytes = Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// An input made of `bytes` (for seeds and replays).
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Bytes not read yet.
    public var remaining: Int { bytes.count - offset }

    /// The next byte, 0 past the end.
    public mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// The next two bytes as a big-endian number, 0 past the end.
    public mutating func uint16() -> UInt16 {
        UInt16(byte()) << 8 | UInt16(byte())
    }

    /// Up to `count` next bytes (fewer at the end).
    public mutating func take(_ count: Int) -> [UInt8] {
        let end = min(bytes.count, offset + max(0, count))
        defer { offset = end }
        return Array(bytes[offset..<end])
    }

    /// A chunk written as `u8 length | bytes` (shorter when the input ends).
    public mutating func chunk() -> [UInt8] {
        take(Int(byte()))
    }

    /// Every byte not read yet.
    public mutating func rest() -> [UInt8] {
        take(remaining)
    }
}
