import LocalityCore

/// A fixed member list, every member `alive`: for tests, single-node runs and deployments
/// where an orchestrator already knows the nodes. Same protocol as `GossipMembership`.
public struct StaticMembership: MembershipProvider {
    public let localNode: NodeID
    private let states: [MemberState]

    /// `members` must contain `localNode`'s entry or it is added with `localAddress`.
    public init(localNode: NodeID, localAddress: NodeAddress, members: [(NodeID, NodeAddress)]) {
        self.localNode = localNode
        var unique: [NodeID: NodeAddress] = [localNode: localAddress]
        for (id, address) in members { unique[id] = address }
        states = unique.map { MemberState(id: $0.key, address: $0.value, incarnation: 0, status: .alive) }
            .sorted { $0.id < $1.id }
    }

    public func members() async -> [MemberState] { states }

    /// Yields every member once as `statusChanged(_, previous: nil)`, then finishes: a static list never changes.
    public func events() -> AsyncStream<MembershipEvent> {
        let (stream, continuation) = AsyncStream<MembershipEvent>.makeStream(bufferingPolicy: .bufferingOldest(max(states.count, 1)))
        for state in states { continuation.yield(.statusChanged(state, previous: nil)) }
        continuation.finish()
        return stream
    }
}
