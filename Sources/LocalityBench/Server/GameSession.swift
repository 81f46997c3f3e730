import Distributed
import LocalityActors
import LocalityCore

/// The stateful benchmark's actor: one game session, its `SessionState` in memory and
/// persisted through `PersistentState` (write-through: `move` returns after the store
/// committed, with the store's group commit).
public distributed actor GameSession: VirtualActor {
    public typealias ActorSystem = ClusterSystem

    /// The kind under which `register(on:)` registers sessions.
    public static let kind = "session"

    private let state: PersistentState<SessionState>

    public init(actorSystem: ClusterSystem, id: VirtualActorID) {
        self.actorSystem = actorSystem
        self.state = PersistentState(id: id, system: actorSystem, initial: SessionState())
    }

    /// Registers the kind with `system`.
    public static func register(on system: ClusterSystem) throws {
        try system.register(GameSession.self, kind: kind) { id, system in GameSession(actorSystem: system, id: id) }
    }

    public func onActivate() async throws {
        try await state.read()
    }

    /// Adds `delta` points; returns the new state once stored. On a store failure the
    /// memory keeps the last stored state.
    public distributed func move(delta: Int64) async throws -> SessionState {
        let before = state.value
        let next = before.applying(delta: delta)
        state.value = next
        do {
            try await state.write()
        } catch {
            state.value = before
            throw error
        }
        return next
    }

    /// The state in memory.
    public distributed func current() -> SessionState {
        state.value
    }
}
