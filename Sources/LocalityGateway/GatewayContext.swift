import LocalityCore
import LocalityMembership
import LocalityRouting

/// What the gateway needs from its node: the actor seam and, optionally, views of the
/// cluster. The node builds one and passes it to `GatewayServer`; tests pass fakes.
/// An endpoint whose provider is nil answers 503 `unavailable`.
public struct GatewayContext: Sendable {
    /// Runs actor methods (`POST /v1/actors/{type}/{id}/{method}`).
    public var invoker: any ActorInvoker
    /// This node's id, shown by the cluster endpoints and the dashboard.
    public var localNode: NodeID?
    /// Whether the node has joined the cluster and serves calls (`/readyz`).
    public var isReady: @Sendable () async -> Bool
    /// The membership view (`GET /v1/cluster/members`), e.g. `GossipMembership.members`.
    public var members: (@Sendable () async -> [MemberState])?
    /// The ring routing uses (`/v1/cluster/ring`, `/v1/cluster/lookup`).
    public var ring: RingOwnerResolver?
    /// Live activations on this node (`GET /v1/cluster/activations`), e.g. from
    /// `ClusterSystem.activeIDs`.
    public var activations: (@Sendable () async -> [GatewayActivation])?

    /// A context with the actor seam and whichever cluster views the node has; without `isReady` the node is always ready.
    public init(
        invoker: any ActorInvoker,
        localNode: NodeID? = nil,
        isReady: @escaping @Sendable () async -> Bool = { true },
        members: (@Sendable () async -> [MemberState])? = nil,
        ring: RingOwnerResolver? = nil,
        activations: (@Sendable () async -> [GatewayActivation])? = nil
    ) {
        self.invoker = invoker
        self.localNode = localNode
        self.isReady = isReady
        self.members = members
        self.ring = ring
        self.activations = activations
    }
}

/// One live activation: its actor kind and key.
public struct GatewayActivation: Sendable, Hashable, Codable {
    /// The actor kind (`player`).
    public var kind: String
    /// The actor's key within the kind (`ana`).
    public var key: String

    /// The activation of actor `kind`/`key`.
    public init(kind: String, key: String) {
        self.kind = kind
        self.key = key
    }
}
