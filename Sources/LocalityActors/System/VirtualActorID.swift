/// The identity of a virtual actor: its registered kind and its key within the kind.
///
/// It names the actor, not an activation: the same id addresses the actor wherever and
/// whenever it is active (Orleans' GrainId). The routing key is `kind/key`.
public struct VirtualActorID: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Registered kind (`player`).
    public var kind: String
    /// Key within the kind (`player-42`).
    public var key: String

    /// The actor `key` of `kind`.
    public init(kind: String, key: String) {
        self.kind = kind
        self.key = key
    }

    /// The key placement and routing hash: `kind/key`.
    public var routingKey: String { "\(kind)/\(key)" }

    /// The routing key, `kind/key`.
    public var description: String { routingKey }
}
