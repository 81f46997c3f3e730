/// The kind byte of a transport frame (see docs/TRANSPORT.md for the layout).
public enum FrameKind: UInt8, Sendable, CaseIterable {
    /// Handshake step (hello, hello-reply, proof, accept).
    case handshake = 1
    /// A request; the payload starts with a `CallHeader`.
    case call = 2
    /// A successful response to the call with the same request id.
    case reply = 3
    /// A failure: `LocalityError` code and message for the call with the same request id,
    /// or for the connection when the request id is 0.
    case error = 4
    /// The caller gave up on the call with this request id; the server cancels its task.
    case cancel = 5
    /// Liveness probe; answered with `pong` carrying the same request id.
    case ping = 6
    /// Answer to `ping`.
    case pong = 7
}
