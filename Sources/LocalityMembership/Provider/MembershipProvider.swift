import LocalityCore

/// A change in the membership as this node sees it.
public enum MembershipEvent: Hashable, Sendable {
    /// A member was seen for the first time (`previous == nil`) or changed status.
    case statusChanged(MemberState, previous: MemberStatus?)
    /// A dead or left member was reaped and forgotten.
    case removed(NodeID)
}

/// Who is in the cluster. Implemented by `StaticMembership`, `GossipMembership` and, later,
/// `EtcdMembership`; placement and routing depend only on this protocol.
public protocol MembershipProvider: Sendable {
    /// This node.
    var localNode: NodeID { get }
    /// The current view (every known member, whatever its status).
    func members() async -> [MemberState]
    /// A new subscription: first one `statusChanged(_, previous: nil)` per known member,
    /// then every change. Each subscriber has its own bounded buffer (see the provider's docs).
    func events() -> AsyncStream<MembershipEvent>
}
