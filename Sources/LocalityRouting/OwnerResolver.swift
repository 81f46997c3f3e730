import LocalityCore

/// Answers "which node owns this key?" from the current view of the cluster.
///
/// The router asks again after `not_owner` or a lost connection, so an implementation
/// only has to reflect its latest view; nil means no member is known.
public protocol OwnerResolver: Sendable {
    /// The owner of `key`, or nil when the view is empty.
    func owner(of key: String) -> NodeID?
}

/// Where a member's transport listens.
public protocol MemberAddressBook: Sendable {
    /// The transport address of `node`, or nil when it is not (or no longer) a member.
    func address(of node: NodeID) -> NodeAddress?
}
