import LocalityCore
import NIOCore

/// One inbound call as the server side sees it.
public struct TransportRequest: Sendable {
    /// The id the caller chose; unique per connection while the call is in flight.
    public var requestID: UInt64
    /// The authenticated caller.
    public var peer: NodeID
    /// The caller's bytes (after the call header).
    public var payload: ByteBuffer
    /// When the caller stops waiting, on this node's clock; nil when it sent none.
    public var deadline: NIODeadline?
    /// W3C trace context of the calling span, when the caller sent one.
    public var traceparent: String?

    /// An inbound call, as the server hands it to its `TransportHandler`.
    public init(requestID: UInt64, peer: NodeID, payload: ByteBuffer, deadline: NIODeadline?, traceparent: String?) {
        self.requestID = requestID
        self.peer = peer
        self.payload = payload
        self.deadline = deadline
        self.traceparent = traceparent
    }
}

/// Serves inbound calls. Each call runs in its own task, cancelled when the caller sends
/// a cancel frame; a thrown `LocalityError` travels back as an error frame with its code,
/// any other error as `internal`.
public protocol TransportHandler: Sendable {
    /// Answers `request` with the reply payload, or throws (a `LocalityError` keeps its code on the wire).
    func handle(_ request: TransportRequest) async throws -> ByteBuffer
}
