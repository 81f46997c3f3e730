/// The one error type that crosses layer and process boundaries.
///
/// `code` is stable: it is used on the wire, in HTTP bodies
/// (`{"error":{"code":…,"message":…}}`) and as a metrics label. Never rename a code.
public struct LocalityError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Stable error codes.
    public enum Code: String, Sendable, Hashable, CaseIterable, Codable {
        /// A bound was hit (queue, in-flight, connections); retry later.
        case overloaded
        /// This node does not own the key; re-resolve and retry.
        case notOwner = "not_owner"
        /// The caller's deadline passed.
        case deadlineExceeded = "deadline_exceeded"
        /// No such actor kind, or the actor could not be found.
        case actorNotFound = "actor_not_found"
        /// Malformed input: bad frame, bad packet, bad arguments, bad flag.
        case badRequest = "bad_request"
        /// Optimistic concurrency failure (stale ETag).
        case conflict
        /// Missing or wrong cluster key.
        case unauthenticated
        /// Input larger than the configured limit.
        case payloadTooLarge = "payload_too_large"
        /// The target is not reachable (left, dead, connection lost).
        case unavailable
        /// The operation was cancelled.
        case cancelled
        /// A bug or an unexpected condition.
        case `internal`
        /// The call may or may not have run: the connection to the node running it was
        /// lost with the call in flight. Retrying may apply it twice; retry with the same
        /// idempotency key to make that safe.
        case outcomeUnknown = "outcome_unknown"
        /// The state store is unreachable: the call did not change state; retry later.
        case storageUnavailable = "storage_unavailable"
        /// A call retried with an idempotency key already ran once and its state changes
        /// were committed, but its result was not kept (the node that ran it stopped
        /// before recording it): count it as applied; it will not run again.
        case alreadyApplied = "already_applied"
    }

    /// The stable code: what the caller may do about it (retry, re-resolve, give up).
    public var code: Code
    /// Human-readable detail; not stable, never parse it.
    public var message: String

    /// An error with `code` and a human-readable `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `<code>: <message>`, the code as on the wire (`not_owner: …`).
    public var description: String { "\(code.rawValue): \(message)" }
}
