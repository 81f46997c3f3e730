import LocalityCore
import NIOCore

/// Splits a byte stream into `Frame`s.
///
/// Waits (`.needMoreData`) until a whole frame is buffered; it never allocates for a
/// frame before checking its declared length against `maxFrameSize`, so a hostile length
/// cannot make it reserve memory. A declared length below the fixed header, above the
/// limit, or an unknown kind byte throws `FrameDecodingError`; `FrameErrorResponder`
/// then answers with an error frame and closes the connection.
public struct FrameDecoder: ByteToMessageDecoder, Sendable {
    /// One decoded frame.
    public typealias InboundOut = Frame

    /// Largest accepted frame, length field included, in bytes.
    public let maxFrameSize: Int

    /// A decoder refusing frames over `maxFrameSize` bytes.
    public init(maxFrameSize: Int) {
        self.maxFrameSize = maxFrameSize
    }

    /// Emits each complete frame; throws `FrameDecodingError` for a bad length or kind.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try Self.decodeFrame(from: &buffer, maxFrameSize: maxFrameSize) else {
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    /// At end of stream, decodes as `decode(context:buffer:)` does.
    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial frame at EOF is dropped: the peer is gone and cannot be answered.
        try decode(context: context, buffer: &buffer)
    }

    /// Reads one frame from `buffer` if it is complete; nil when more bytes are needed.
    /// Leaves `buffer` untouched when it returns nil.
    public static func decodeFrame(from buffer: inout ByteBuffer, maxFrameSize: Int) throws -> Frame? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        let bodyLength = Int(length)
        guard bodyLength >= Frame.fixedBodySize else {
            throw FrameDecodingError.lengthBelowHeader(bodyLength)
        }
        guard bodyLength + Frame.lengthFieldSize <= maxFrameSize else {
            throw FrameDecodingError.tooLarge(size: bodyLength + Frame.lengthFieldSize, limit: maxFrameSize)
        }
        if let kindByte = buffer.getInteger(at: buffer.readerIndex + Frame.lengthFieldSize, as: UInt8.self),
           FrameKind(rawValue: kindByte) == nil {
            throw FrameDecodingError.unknownKind(kindByte)
        }
        guard buffer.readableBytes >= Frame.lengthFieldSize + bodyLength else { return nil }
        buffer.moveReaderIndex(forwardBy: Frame.lengthFieldSize)
        let kind = FrameKind(rawValue: buffer.readInteger(as: UInt8.self)!)!
        let requestID = buffer.readInteger(as: UInt64.self)!
        let payload = buffer.readSlice(length: bodyLength - Frame.fixedBodySize)!
        return Frame(kind: kind, requestID: requestID, payload: payload)
    }
}

/// Why a byte stream could not be split into frames.
public enum FrameDecodingError: Error, Equatable, Sendable {
    /// Declared length is shorter than kind + request id.
    case lengthBelowHeader(Int)
    /// Kind byte names no `FrameKind`.
    case unknownKind(UInt8)
    /// Declared frame size exceeds the limit.
    case tooLarge(size: Int, limit: Int)

    /// The error sent to the peer before the connection closes.
    public var localityError: LocalityError {
        switch self {
        case .lengthBelowHeader(let length):
            LocalityError(.badRequest, "malformed frame: length \(length) is below the \(Frame.fixedBodySize)-byte header")
        case .unknownKind(let kind): LocalityError(.badRequest, "malformed frame: unknown kind \(kind)")
        case .tooLarge(let size, let limit): LocalityError(.payloadTooLarge, "frame of \(size) bytes exceeds the \(limit)-byte limit")
        }
    }
}
