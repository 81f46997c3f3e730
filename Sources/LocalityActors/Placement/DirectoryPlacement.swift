import LocalityCore
import LocalityPlacement
import LocalityRouting
import NIOCore
import Synchronization

/// Directory-backed placement of one node (`ActorPlacement` other than `.hashOwner`):
/// finds where an actor is active through the `DirectoryService`, places new ones with the
/// strategy, and keeps the directory entries of the activations this node hosts.
///
/// Caller side (`host(of:)`): cached directory lookup; when nothing is recorded, the
/// strategy picks a node and, when it is another node, the caller registers it there with
/// the reservation epoch 0 (first writer wins: the recorded node is used either way).
/// Host side (`claim`): every new activation registers `local@epoch` before it loads; if
/// another node is recorded the activation is refused with `not_owner` (the caller
/// re-resolves); if this node is recorded under another epoch (a caller's reservation, or
/// an old activation whose unregister is late) the entry is moved to the new epoch, so a
/// late unregister of the old one cannot remove it. A departing activation unregisters
/// with its own epoch (`release`).
///
/// Bounds: `hosted` holds one entry per live activation of this node (so at most
/// `ActorSettings.maxActivations`); the load tables hold at most one entry per ring member
/// (pruned on each placement).
final class DirectoryPlacement: Sendable {
    private struct State {
        var strategy: any PlacementStrategy
        /// Activations this node placed on each other member since its last load report.
        var placed: [NodeID: Int] = [:]
        /// Activation counts members reported (`ClusterSystem.reportLoad`).
        var reported: [NodeID: Int] = [:]
        /// Directory address of each activation this node hosts.
        var hosted: [VirtualActorID: ActivationAddress] = [:]
        var nextEpoch: UInt64 = 1
        var counters = PlacementCounters()
    }

    /// Epoch of a caller's reservation: "placed there, not yet activated".
    static let reservationEpoch: UInt64 = 0

    let local: NodeID
    let directory: DirectoryService
    let mode: ActorPlacement
    private let state: Mutex<State>

    init(local: NodeID, directory: DirectoryService, mode: ActorPlacement) {
        self.local = local
        self.directory = directory
        self.mode = mode
        let strategy: any PlacementStrategy = switch mode {
        case .hashOwner: HashOwnerPlacement()
        case .preferLocal: PreferLocalPlacement()
        case .twoChoices(let seed): TwoChoicesPlacement(random: SeededRandom(seed: seed ^ local.uid))
        case .random(let seed): RandomPlacement(random: SeededRandom(seed: seed ^ local.uid))
        }
        self.state = Mutex(State(strategy: strategy))
    }

    var stats: PlacementCounters {
        state.withLock { state in
            var counters = state.counters
            counters.hosted = state.hosted.count
            return counters
        }
    }

    // MARK: Caller side

    /// The node that runs calls to `id`: the recorded activation, else a new placement.
    /// `failed` is the node whose attempt just failed (`not_owner`, unreachable): a cached
    /// address on it is dropped first. `localLoad` is this node's live activation count.
    func host(of id: VirtualActorID, failed: NodeID?, localLoad: Int, deadline: NIODeadline) async throws -> NodeID {
        let key = id.routingKey
        if let failed, directory.cachedAddress(of: key)?.node == failed {
            directory.invalidateCache(key)
        }
        if let recorded = try await directory.lookup(key, deadline: deadline) {
            return recorded.node
        }
        let ring = directory.ring
        let chosen = state.withLock { state -> NodeID? in
            state.placed = state.placed.filter { ring.contains($0.key) }
            state.reported = state.reported.filter { ring.contains($0.key) }
            var loads: [NodeID: Int] = [:]
            for member in ring.members {
                loads[member] = member == local ? localLoad : (state.reported[member] ?? 0) + (state.placed[member] ?? 0)
            }
            state.counters.placements += 1
            return state.strategy.place(key, in: PlacementContext(ring: ring, loads: loads, local: local))
        }
        guard let chosen else {
            throw LocalityError(.unavailable, "no member to place \(id) on: the ring is empty")
        }
        if chosen == local { return local }
        let reservation = ActivationAddress(node: chosen, epoch: Self.reservationEpoch)
        let recorded = try await directory.register(key, address: reservation, deadline: deadline)
        state.withLock { state in
            if recorded.node == chosen {
                state.placed[chosen, default: 0] += 1
            } else {
                state.counters.lostPlacements += 1
            }
        }
        return recorded.node
    }

    /// Records the activation count `node` reported; this node's own placements on it
    /// since then are added on top until the next report.
    func reportLoad(of node: NodeID, activations: Int) {
        state.withLock { state in
            state.reported[node] = max(0, activations)
            state.placed[node] = nil
        }
    }

    // MARK: Host side

    /// Registers a new activation of `id` on this node; throws `not_owner` when another
    /// node's activation is recorded.
    func claim(_ id: VirtualActorID, deadline: NIODeadline) async throws {
        let key = id.routingKey
        let address = state.withLock { state in
            defer { state.nextEpoch += 1 }
            return ActivationAddress(node: local, epoch: state.nextEpoch)
        }
        let recorded = try await directory.register(key, address: address, deadline: deadline)
        guard recorded.node == local else {
            state.withLock { $0.counters.refusedActivations += 1 }
            throw LocalityError(.notOwner, "actor \(id) is active on \(recorded.node), not on \(local)")
        }
        if recorded != address {
            // A caller's reservation for this node, or an old activation of ours whose
            // unregister is late: repoint it at this activation's epoch.
            _ = try await directory.move(key, to: address, deadline: deadline)
        }
        state.withLock { state in
            state.hosted[id] = address
            state.counters.registered += 1
        }
    }

    /// Takes the directory address of a departing activation of `id` (call it while no
    /// new activation of `id` can start on this node); nil when it had none.
    func takeHosted(_ id: VirtualActorID) -> ActivationAddress? {
        state.withLock { $0.hosted.removeValue(forKey: id) }
    }

    /// Unregisters a departed activation (its epoch only: never a newer one).
    func release(_ id: VirtualActorID, address: ActivationAddress, deadline: NIODeadline) async {
        do {
            let removed = try await directory.unregister(id.routingKey, address: address, deadline: deadline)
            state.withLock { state in
                if removed { state.counters.unregistered += 1 }
            }
        } catch {
            state.withLock { $0.counters.failedUnregisters += 1 }
        }
    }

    /// The hosted activation whose directory address is `address`, if any.
    func hostedID(key: String, address: ActivationAddress) -> VirtualActorID? {
        state.withLock { state in
            state.hosted.first { $0.key.routingKey == key && $0.value == address }?.key
        }
    }

    /// Directory entries of the activations this node hosts (for re-registration).
    var hostedEntries: [DirectoryEntry] {
        state.withLock { state in
            state.hosted.map { DirectoryEntry(key: $0.key.routingKey, address: $0.value) }.sorted { $0.key < $1.key }
        }
    }

    func countLostActivation() {
        state.withLock { $0.counters.lostActivations += 1 }
    }
}

/// What directory-backed placement did on one node, for tests and `status`.
public struct PlacementCounters: Sendable, Equatable {
    /// New placements decided by the strategy on this node.
    public var placements = 0
    /// Placements whose registration found another node already recorded (first writer wins).
    public var lostPlacements = 0
    /// Activations of this node registered (or confirmed) in the directory.
    public var registered = 0
    /// Activations refused because another node's activation is recorded (`not_owner`).
    public var refusedActivations = 0
    /// Departed activations unregistered, and unregisters that failed (the entry then
    /// lingers; the next call re-activates the actor on the recorded node).
    public var unregistered = 0
    /// Unregisters that failed.
    public var failedUnregisters = 0
    /// Activations deactivated because the directory chose another one (hand-off
    /// conflict or lost re-registration).
    public var lostActivations = 0
    /// Activations of this node with a directory entry now (at most one per live activation).
    public var hosted = 0
}
