import LocalityBench
import LocalityServer

/// The bench front's backend on a running `LocalityNode`: moves and views are typed calls
/// to its `GameSession` actors (routed like any call from Swift), the stored state is read
/// from the node's own state store. Closing it closes nothing: the node owns its store.
struct NodeSessionBackend: SessionBackend {
    let node: LocalityNode
    let storeName: String

    func move(key: String, delta: Int64) async throws -> SessionState {
        try await node.actor(GameSession.self, id: key).move(delta: delta)
    }

    func view(key: String) async throws -> SessionState {
        try await node.actor(GameSession.self, id: key).current()
    }

    func stored(key: String) async throws -> SessionState {
        try await ActorSessionBackend.stored(key: key, in: node.system.stateStore)
    }

    func close() async throws {}
}
