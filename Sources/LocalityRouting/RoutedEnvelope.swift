import LocalityCore
import NIOCore

/// What a forwarded request carries inside a transport call:
/// `u8 version | u8 hops | u16 key length | key (UTF-8) | body`.
///
/// `hops` counts the forwards so far; the receiving router refuses to forward a request
/// that already took `maxHops`. The high bit of the hops byte marks a **direct** request
/// (`Router.handleOrForward(key:body:deadline:resolve:)`): the caller chose the node, so
/// the receiver runs it locally and never forwards it (its handler answers `not_owner`
/// when the key is not its to serve).
public struct RoutedEnvelope: Sendable, Equatable {
    /// The envelope format version: the first payload byte, by which `TransportServiceMux` finds the router.
    public static let version: UInt8 = 1
    /// Longest key on the wire, in bytes.
    public static let maxKeyBytes = Int(UInt16.max)
    /// Bit of the hops byte that marks a direct request.
    static let directFlag: UInt8 = 0x80

    /// Forwards taken so far (at most 127 on the wire).
    public var hops: Int
    /// The routing key.
    public var key: String
    /// The caller's bytes.
    public var body: ByteBuffer
    /// The caller chose this node: run here, never forward.
    public var direct: Bool

    /// An envelope for `key`, after `hops` forwards.
    public init(hops: Int, key: String, body: ByteBuffer, direct: Bool = false) {
        self.hops = hops
        self.key = key
        self.body = body
        self.direct = direct
    }

    /// The envelope's bytes: version, hops (with the direct bit), key, body.
    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        let keyBytes = key.utf8.prefix(Self.maxKeyBytes)
        var buffer = allocator.buffer(capacity: 4 + keyBytes.count + body.readableBytes)
        buffer.writeInteger(Self.version)
        buffer.writeInteger(UInt8(clamping: min(hops, 0x7F)) | (direct ? Self.directFlag : 0))
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
        return RoutedEnvelope(hops: Int(hops & ~directFlag), key: key, body: buffer, direct: hops & directFlag != 0)
    }
}
