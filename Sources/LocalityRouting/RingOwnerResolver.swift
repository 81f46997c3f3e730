import LocalityCore
import LocalityPlacement
import Synchronization

/// An `OwnerResolver` and `MemberAddressBook` backed by a `HashRing` over the current
/// members; feed it the member list (static, or from a `MembershipProvider`'s events).
///
/// The ring is rebuilt on each `update` (O(members × virtual nodes)), never on lookup;
/// lookups take a lock only to copy the current ring reference. Consumers that must follow
/// each new view (the directory's `DirectoryService.follow`) subscribe with `rings()`.
public final class RingOwnerResolver: OwnerResolver, MemberAddressBook {
    private struct Observers {
        var nextID = 0
        var continuations: [Int: AsyncStream<HashRing>.Continuation] = [:]
    }

    private struct View {
        var ring: HashRing
        var addresses: [NodeID: NodeAddress]
        /// The members' HTTP gateways (`host:port`), for clients that call owners directly.
        var gateways: [NodeID: String] = [:]
        /// `ring.checksum`, computed once per view (it hashes every member).
        var checksum: UInt64

        init(ring: HashRing, addresses: [NodeID: NodeAddress], gateways: [NodeID: String] = [:]) {
            self.ring = ring
            self.addresses = addresses
            self.gateways = gateways
            self.checksum = ring.checksum
        }
    }

    /// The ring settings every view is built with.
    public let settings: RingSettings
    private let view: Mutex<View>
    private let observers = Mutex(Observers())

    /// A resolver over `members` and their transport addresses (empty: no owner until `update`).
    public init(members: [NodeID: NodeAddress] = [:], settings: RingSettings = RingSettings()) {
        self.settings = settings
        self.view = Mutex(View(ring: HashRing(members: Array(members.keys), settings: settings), addresses: members))
    }

    /// Replaces the member list (and the members' gateway addresses, when known).
    public func update(_ members: [NodeID: NodeAddress], gateways: [NodeID: String] = [:]) {
        let ring = HashRing(members: Array(members.keys), settings: settings)
        // The observers' lock orders the new view and its announcement, so a stream never
        // receives an older ring after a newer one.
        observers.withLock { observers in
            view.withLock { $0 = View(ring: ring, addresses: members, gateways: gateways.filter { members[$0.key] != nil }) }
            for continuation in observers.continuations.values { continuation.yield(ring) }
        }
    }

    /// Every ring this resolver puts in force, starting with the current one, until the
    /// consumer stops iterating. Bounded: each stream holds only the newest ring not yet
    /// consumed, so a slow consumer skips intermediate views (fine for consumers that diff
    /// against their own last view). One stream per consumer.
    public func rings() -> AsyncStream<HashRing> {
        let (stream, continuation) = AsyncStream.makeStream(of: HashRing.self, bufferingPolicy: .bufferingNewest(1))
        observers.withLock { observers in
            let id = observers.nextID
            observers.nextID += 1
            observers.continuations[id] = continuation
            continuation.onTermination = { [weak self] _ in
                self?.observers.withLock { _ = $0.continuations.removeValue(forKey: id) }
            }
            continuation.yield(view.withLock { $0.ring })
        }
        return stream
    }

    /// Removes one member (it left or was declared dead).
    public func remove(_ node: NodeID) {
        var (members, gateways) = view.withLock { ($0.addresses, $0.gateways) }
        members[node] = nil
        update(members, gateways: gateways)
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

    /// The HTTP gateway (`host:port`) of `key`'s owner, when the owner advertises one,
    /// and the ring's checksum (equal checksums place every key alike): what the gateway
    /// tells clients so they can call the owner directly next time.
    public func gateway(ofOwnerOf key: String) -> (gateway: String?, ringChecksum: UInt64) {
        view.withLock { view in
            (view.ring.owner(of: key).flatMap { view.gateways[$0] }, view.checksum)
        }
    }

    /// The members' gateway addresses in force.
    public var gateways: [NodeID: String] { view.withLock { $0.gateways } }
}
