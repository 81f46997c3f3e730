import NIOCore

/// Writes `Frame`s as bytes (used for single frames; batched paths use `Outbox`).
public struct FrameEncoder: MessageToByteEncoder, Sendable {
    /// The frame to write.
    public typealias OutboundIn = Frame

    /// A stateless encoder.
    public init() {}

    /// Writes `data` with its length prefix.
    public func encode(data: Frame, out: inout ByteBuffer) throws {
        data.write(to: &out)
    }
}
