import LocalityActors

/// One kind of virtual actor a node hosts: its name on the wire and in gateway paths, how
/// to create an instance, and the error types its methods may throw back to remote
/// callers as themselves (Dapr's `RegisterActor<T>`, Akka's `Entity(typeKey)`).
///
/// ```swift
/// let kinds = [
///     ActorKind(Cart.self, name: "cart") { id, system in Cart(actorSystem: system, id: id) }
///         .allowingRemoteError(CartError.self),
/// ]
/// let node = try await LocalityNode.start(configuration, kinds: kinds)
/// ```
///
/// A kind name is 1…64 characters from `A–Z a–z 0–9 . _ -` (what a gateway path segment
/// carries without escaping); `LocalityNode.start` refuses any other name, and a name
/// given twice.
public struct ActorKind: Sendable {
    /// The kind name: `POST /v1/actors/{name}/{id}/{method}`.
    public let name: String
    let register: @Sendable (ClusterSystem) throws -> Void

    /// A kind of `type`, created by `factory` on its first call.
    public init<A: VirtualActor>(
        _ type: A.Type, name: String,
        factory: @escaping @Sendable (VirtualActorID, ClusterSystem) async throws -> A
    ) {
        self.name = name
        self.register = { system in try system.register(type, kind: name, factory: factory) }
    }

    /// A kind registered by a closure of the program's own (several calls of
    /// `ClusterSystem.register` and `allowRemoteError`, say); `name` is the kind it registers.
    public init(name: String, register: @escaping @Sendable (ClusterSystem) throws -> Void) {
        self.name = name
        self.register = register
    }

    /// This kind, with `error` travelling back to remote callers as itself under `wireName`
    /// (default: its type name); other errors reach them as `LocalityError`.
    public func allowingRemoteError<E: Error & Codable>(_ error: E.Type, wireName: String? = nil) -> ActorKind {
        let register = self.register
        return ActorKind(name: name) { system in
            try register(system)
            system.allowRemoteError(error, name: wireName)
        }
    }

    /// Characters a kind name may use.
    static let allowedCharacters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")

    /// Why `kinds` cannot be hosted together, or nil.
    static func problem(with kinds: [ActorKind]) -> String? {
        var seen = Set<String>()
        for kind in kinds {
            guard (1...64).contains(kind.name.count), kind.name.allSatisfy(allowedCharacters.contains), kind.name != ClusterSystem.anonymousKind else {
                return "actor kind name '\(kind.name)' cannot be carried in a gateway path: use 1…64 characters from A-Z a-z 0-9 . _ -"
            }
            guard seen.insert(kind.name).inserted else {
                return "actor kind '\(kind.name)' is registered twice"
            }
        }
        return nil
    }
}
