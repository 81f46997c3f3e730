import NIOCore

/// Writes `Frame`s as bytes (used for single frames; batched paths use `Outbox`).
public struct FrameEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = Frame

    public init() {}

    public func encode(data: Frame, out: inout ByteBuffer) throws {
        data.write(to: &out)
    }
}
