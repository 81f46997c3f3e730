import LocalityCore
import LocalityPlacement
import Synchronization

/// An `OwnerResolver` and `MemberAddressBook` backed by a `HashRing` over the current
/// members; feed it the member list (static, or from a `MembershipProvider`'s events).
///
/// The ring is rebuilt on each `update` (O(members × virtual nodes)), never on lookup;
/// lookups take a lock only to copy the current ring reference.
public final class RingOwnerResolver: OwnerResolver, MemberAddressBook {
    private struct View {
        var ring: HashRing
        var addresses: [NodeID: NodeAddress]
    }

    private let settings: RingSettings
    private let view: Mutex<View>

    public init(members: [NodeID: NodeAddress] = [:], settings: RingSettings = RingSettings()) {
        self.settings = settings
        self.view = Mutex(View(ring: HashRing(members: Array(members.keys), settings: settings), addresses: members))
    }

    /// Replaces the member list.
    public func update(_ members: [NodeID: NodeAddress]) {
        let ring = HashRing(members: Array(members.keys), settings: settings)
        view.withLock { $0 = View(ring: ring, addresses: members) }
    }

    /// Removes one member (it left or was declared dead).
    public func remove(_ node: NodeID) {
        var members = view.withLock { $0.addresses }
        members[node] = nil
        update(members)
    }

    /// The member list in force.
    public var members: [NodeID: NodeAddress] { view.withLock { $0.addresses } }

    /// The ring in force.
    public var ring: HashRing { view.withLock { $0.ring } }

    public func owner(of key: String) -> NodeID? {
        view.withLock { $0.ring.owner(of: key) }
    }

    public func address(of node: NodeID) -> NodeAddress? {
        view.withLock { $0.addresses[node] }
    }
}
