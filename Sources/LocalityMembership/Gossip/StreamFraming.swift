import LocalityCore
import NIOCore

/// TCP framing for the gossip stream: `u32 length | body`, where body is a sealed packet
/// (`PacketSeal`). A frame whose announced length is over `maxFrameBytes` is a protocol
/// error: the decoder throws and the connection is closed before any body is buffered.
public struct StreamFrameDecoder: ByteToMessageDecoder {
    /// A frame's body, the sealed packet without its length prefix.
    public typealias InboundOut = ByteBuffer

    /// Largest body accepted; a larger announced length throws `payload_too_large`.
    public let maxFrameBytes: Int

    /// A decoder refusing bodies over `maxFrameBytes`.
    public init(maxFrameBytes: Int) {
        self.maxFrameBytes = maxFrameBytes
    }

    /// Emits each complete frame body; checks the announced length before waiting for the body.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard Int(length) <= maxFrameBytes else {
            throw LocalityError(.payloadTooLarge, "stream frame of \(length) bytes exceeds \(maxFrameBytes)")
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        guard let body = buffer.readSlice(length: Int(length)) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(body))
        return .continue
    }

    /// At end of stream, decodes as `decode(context:buffer:)` does.
    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}

/// Writes `u32 length | body` frames.
public struct StreamFrameEncoder: MessageToByteEncoder {
    /// A frame's body, written after its `u32` length.
    public typealias OutboundIn = ByteBuffer

    /// A stateless encoder.
    public init() {}

    /// Writes `u32 length | data`.
    public func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        out.writeInteger(UInt32(data.readableBytes))
        out.writeImmutableBuffer(data)
    }
}

/// Closes a connection that stayed silent for the read timeout (installed after an
/// `IdleStateHandler`), so a client that connects and sends nothing cannot hold a slot.
final class IdleConnectionCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
