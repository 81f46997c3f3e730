/// Calls a virtual actor's method by names, with JSON arguments and a JSON result: the
/// seam between the HTTP gateway (which owns the HTTP side) and the actor runtime (which
/// routes the call to the actor's owner and runs it there).
///
/// Arguments are one JSON object keyed by the method's argument labels
/// (`{"points":12,"won":true}`), or a JSON array in declaration order; a method without
/// arguments takes `{}`, `[]` or an empty body.
///
/// Errors: `LocalityError` with its stable code (`actor_not_found` for an unknown kind
/// or method, `bad_request` for arguments that do not decode, `overloaded`,
/// `deadline_exceeded`, `unavailable`, `conflict`, …), or `ActorMethodError` when the
/// method itself threw.
public protocol ActorInvoker: Sendable {
    /// Runs `kind`/`key`.`method` (the method's base name, e.g. `recordMatch`, or its
    /// full stable name, e.g. `recordMatch(points:won:)`) and returns the result as JSON
    /// (`null` for a method that returns nothing).
    ///
    /// With an `idempotencyKey`, a call the actor already ran under that key is not run
    /// again: its first result is returned, or `already_applied` when that result was
    /// not kept.
    func invoke(
        kind: String, key: String, method: String, arguments: [UInt8], timeout: Duration, idempotencyKey: IdempotencyKey?
    ) async throws -> [UInt8]
}

extension ActorInvoker {
    /// `invoke` without an idempotency key: a retry may run the call again.
    public func invoke(kind: String, key: String, method: String, arguments: [UInt8], timeout: Duration) async throws -> [UInt8] {
        try await invoke(kind: kind, key: key, method: method, arguments: arguments, timeout: timeout, idempotencyKey: nil)
    }
}

/// The method of an actor threw: `type` names the error type; `json` is the error
/// encoded as JSON when its type is allowed to travel (`allowRemoteError`), nil otherwise.
public struct ActorMethodError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The error type's name: the name registered with `allowRemoteError`, else the Swift type name.
    public var type: String
    /// The error as JSON, when its type may travel; nil otherwise.
    public var json: [UInt8]?

    /// An error of `type`, with its JSON encoding when there is one.
    public init(type: String, json: [UInt8]?) {
        self.type = type
        self.json = json
    }

    /// `actor method threw <type>`, then the JSON when there is one.
    public var description: String {
        "actor method threw \(type)" + (json.map { ": " + String(decoding: $0, as: UTF8.self) } ?? "")
    }
}
