import Distributed

/// A virtual actor: a distributed actor of `ClusterSystem` that the runtime activates on
/// its first call and deactivates when idle (Orleans' grain lifecycle).
///
/// Register a kind with `ClusterSystem.register(_:kind:factory:)`, then address it with
/// `ClusterSystem.actor(_:id:)`. Keep distributed methods non-generic.
public protocol VirtualActor: DistributedActor where ActorSystem == ClusterSystem {
    /// Runs once, before the first call of an activation: load state here. A throw fails
    /// the activation; the waiting calls get the error and nothing stays registered.
    func onActivate() async throws
    /// Runs once when the activation is deactivated (idle, evicted, shutdown), as its last
    /// turn: flush state here. Not run after a state conflict (its state is stale).
    func onDeactivate() async throws
}

extension VirtualActor {
    public func onActivate() async throws {}
    public func onDeactivate() async throws {}
}

extension VirtualActor {
    /// Runs `onActivate` on this local instance.
    nonisolated func runOnActivate() async throws {
        _ = try await whenLocal { try await $0.onActivate() }
    }

    /// Runs `onDeactivate` on this local instance.
    nonisolated func runOnDeactivate() async throws {
        _ = try await whenLocal { try await $0.onDeactivate() }
    }
}
