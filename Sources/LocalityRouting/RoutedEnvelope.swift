import LocalityCore
import NIOCore

/// What a forwarded request carries inside a transport call:
/// `u8 version | u8 hops | u16 key length | key (UTF-8) | body`.
///
/// `hops` counts the forwards so far; the receiving router refuses to forward a request
/// that already took `maxHops`.
public struct RoutedEnvelope: Sendable, Equatable {
    public static let version: UInt8 = 1
    /// Longest key on the wire, in bytes.
    public static let maxKeyBytes = Int(UInt16.max)

    public var hops: Int
    public var key: String
    public var body: ByteBuffer

    public init(hops: Int, key: String, body: ByteBuffer) {
        self.hops = hops
        self.key = key
        self.body = body
    }

    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        let keyBytes = key.utf8.prefix(Self.maxKeyBytes)
        var buffer = allocator.buffer(capacity: 4 + keyBytes.count + body.readableBytes)
        buffer.writeInteger(Self.version)
        buffer.writeInteger(UInt8(clamping: hops))
        buffer.writeInteger(UInt16(keyBytes.count))
        buffer.writeBytes(keyBytes)
        var body = body
        buffer.writeBuffer(&body)
        return buffer
    }

    /// Decodes an envelope; throws `bad_request` when malformed.
    public static func decode(_ buffer: ByteBuffer) throws(LocalityError) -> RoutedEnvelope {
        var buffer = buffer
        guard let version = buffer.readInteger(as: UInt8.self), version == Self.version,
              let hops = buffer.readInteger(as: UInt8.self),
              let keyLength = buffer.readInteger(as: UInt16.self),
              let key = buffer.readString(length: Int(keyLength))
        else { throw LocalityError(.badRequest, "malformed routed request") }
        return RoutedEnvelope(hops: Int(hops), key: key, body: buffer)
    }
}
