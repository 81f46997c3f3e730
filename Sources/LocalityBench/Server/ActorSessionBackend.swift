import LocalityActors
import LocalityCore
import LocalityStorage

/// The Locality implementation: a one-node `ClusterSystem` with a `GameSession` actor per
/// key; reads are served from memory, writes go through to `store` before the reply.
public final class ActorSessionBackend: SessionBackend {
    public let storeName: String
    /// The store behind the actors.
    public let store: any StateStore
    private let system: ClusterSystem

    /// Actors over `store`; `storeName` (one word) names it for the report.
    public init(store: any StateStore, storeName: String, settings: ActorSettings = ActorSettings()) throws {
        self.store = store
        self.storeName = storeName
        self.system = ClusterSystem(node: NodeID(name: "bench", uid: 1), settings: settings, stateStore: store)
        try GameSession.register(on: system)
    }

    public func move(key: String, delta: Int64) async throws -> SessionState {
        try await system.actor(GameSession.self, id: key).move(delta: delta)
    }

    public func view(key: String) async throws -> SessionState {
        try await system.actor(GameSession.self, id: key).current()
    }

    public func stored(key: String) async throws -> SessionState {
        try await Self.stored(key: key, in: store)
    }

    /// The state of session `key` as `store` holds it (zero when never written), decoded
    /// the way `PersistentState` stores it.
    public static func stored(key: String, in store: any StateStore) async throws -> SessionState {
        let stored = try await store.read(StateKey(kind: GameSession.kind, id: key))
        guard let bytes = stored.value else { return SessionState() }
        return try PersistentState<SessionState>.value(fromStored: bytes) ?? SessionState()
    }

    public func close() async throws {
        await system.shutdown()
        try await store.close()
    }
}
