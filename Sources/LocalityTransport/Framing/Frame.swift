import NIOCore

/// One transport frame: `u32 length | u8 kind | u64 request id | payload`.
///
/// `length` counts the bytes after itself (kind + request id + payload), so the whole
/// frame on the wire is `4 + length` bytes. All integers are big-endian.
public struct Frame: Sendable, Equatable {
    /// Bytes of the length field.
    public static let lengthFieldSize = 4
    /// Bytes of kind + request id.
    public static let fixedBodySize = 9
    /// Bytes before the payload.
    public static let headerSize = lengthFieldSize + fixedBodySize

    /// What the frame carries (call, reply, error, …).
    public var kind: FrameKind
    /// Pairs a reply, error or cancel with its call; 0 for handshake frames and connection-level errors.
    public var requestID: UInt64
    /// The bytes after the fixed header.
    public var payload: ByteBuffer

    /// A frame of `kind` for call `requestID`.
    public init(kind: FrameKind, requestID: UInt64, payload: ByteBuffer) {
        self.kind = kind
        self.requestID = requestID
        self.payload = payload
    }

    /// Size of the frame on the wire, in bytes.
    public var wireSize: Int { Frame.headerSize + payload.readableBytes }

    /// Appends the frame to `buffer`.
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(Frame.fixedBodySize + payload.readableBytes))
        buffer.writeInteger(kind.rawValue)
        buffer.writeInteger(requestID)
        var body = payload
        buffer.writeBuffer(&body)
    }

    /// An error frame carrying `error`'s code and message.
    public static func error(_ error: LocalityErrorPayload, requestID: UInt64, allocator: ByteBufferAllocator) -> Frame {
        var buffer = allocator.buffer(capacity: 8 + error.message.utf8.count + error.code.utf8.count)
        error.write(to: &buffer)
        return Frame(kind: .error, requestID: requestID, payload: buffer)
    }
}
