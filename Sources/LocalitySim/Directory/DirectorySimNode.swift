import HeapModule
import LocalityCore
import LocalityPlacement

/// A simulated node running the production `ActivationDirectory` partition, a lookup
/// cache, and the activations it hosts. It serves directory requests for the keys it owns,
/// hands partitions off and re-registers its activations when the view changes, and
/// activates keys through the directory when its workload says so.
public struct DirectorySimNode: Sendable {
    /// This node's identity.
    public let id: NodeID
    /// Simulator index of every node identity (shared, never mutated).
    let indexOf: [NodeID: Int]
    let settings: DirectorySimSettings
    /// The partition of the directory this node owns, and its view of the members.
    public internal(set) var directory: ActivationDirectory
    /// Activations hosted here: key → activation epoch.
    public internal(set) var activations: [String: UInt64] = [:]
    /// Counters.
    public internal(set) var stats = DirectorySimStats()

    var viewVersion: Int
    var nextEpoch: UInt64 = 1
    var cache: DirectoryCache
    var operations: [UInt64: DirectoryOperation] = [:]
    var nextOperation: UInt64 = 1
    var workload: [DirectoryWorkItem]
    var workloadCursor = 0
    /// Timeouts and retries of operations. Bounded through `operations`: each attempt of an
    /// operation adds at most one timer, attempts are spaced by the backoff or the timeout,
    /// and a timer is discarded when it fires (stale ones are ignored).
    var timers = Heap<OperationTimer>()
    var timerSequence: UInt64 = 0

    /// A directory node with its partition, cache and workload.
    ///
    /// - Parameters:
    ///   - id: this node's identity.
    ///   - ring: the ring of the initial view (empty for a node that joins later).
    ///   - viewVersion: the version of that view (-1 for a joiner).
    ///   - indexOf: the simulator's node index of every member, to address messages.
    ///   - workload: activation requests this node makes, sorted by time.
    ///   - settings: the experiment's settings (its `directory` settings size the partition and cache).
    ///   - random: the node's own random stream (cache eviction).
    public init(
        id: NodeID, ring: HashRing, viewVersion: Int, indexOf: [NodeID: Int],
        workload: [DirectoryWorkItem], settings: DirectorySimSettings, random: SeededRandom
    ) {
        self.id = id
        self.indexOf = indexOf
        self.settings = settings
        self.viewVersion = viewVersion
        self.directory = ActivationDirectory(local: id, ring: ring, settings: settings.directory)
        self.cache = DirectoryCache(capacity: settings.directory.cacheCapacity, random: random)
        self.workload = workload
    }

    typealias Effect = SimEffect<DirectorySimMessage, Never>

    /// Next time a workload item or an operation timer is due.
    public var nextDeadline: Timestamp {
        var next = Int64.max
        if workloadCursor < workload.count { next = workload[workloadCursor].time }
        if let timer = timers.min { next = min(next, timer.time) }
        return Timestamp(nanoseconds: next)
    }

    mutating func tick(now: Timestamp, into effects: inout [Effect]) {
        while workloadCursor < workload.count, workload[workloadCursor].time <= now.nanoseconds {
            let item = workload[workloadCursor]
            workloadCursor += 1
            startActivation(key: "key-\(item.key)", phase: item.phase, now: now, into: &effects)
        }
        while let timer = timers.min, timer.time <= now.nanoseconds {
            _ = timers.removeMin()
            fire(timer, now: now, into: &effects)
        }
    }

    mutating func receive(_ message: DirectorySimMessage, from: Int, now: Timestamp, into effects: inout [Effect]) {
        switch message {
        case let .request(id, request):
            let reply = directory.handle(request)
            send(.reply(id: id, reply), to: from, into: &effects)
        case let .reply(id, reply):
            guard let operationID = awaiting(id) else { return }
            handleReply(operationID, reply, now: now, into: &effects)
        case let .call(id, key, address):
            let active = address.node == self.id && activations[key] == address.epoch
            send(.callReply(id: id, active: active), to: from, into: &effects)
        case let .callReply(id, active):
            guard let operationID = awaiting(id) else { return }
            handleCallResult(operationID, active: active, now: now, into: &effects)
        case let .handOff(handOff):
            for conflict in directory.acceptHandOff(handOff) {
                if let loser = indexOf[conflict.loser.node] {
                    send(.deactivate(key: conflict.key, address: conflict.loser), to: loser, into: &effects)
                }
            }
        case let .deactivate(key, address):
            deactivate(key, address: address)
        case let .view(version, ring):
            applyView(version: version, ring: ring, now: now, into: &effects)
        }
    }

    mutating func deliveryFailed(_ message: DirectorySimMessage, now: Timestamp, into effects: inout [Effect]) {
        switch message {
        case let .request(id, _), let .call(id, _, _):
            guard let operationID = awaiting(id) else { return }
            retryLater(operationID, now: now)
        case .handOff:
            // The new owner is gone; the hosts re-register with the owner after it.
            stats.handOffsLost += 1
        case .reply, .callReply, .deactivate, .view:
            return
        }
    }

    /// A new view: move partitions, drop cache entries of departed nodes, and re-register
    /// hosted activations whose partition owner changed (the recovery rule).
    mutating func applyView(version: Int, ring: HashRing, now: Timestamp, into effects: inout [Effect]) {
        guard version > viewVersion else { return }
        viewVersion = version
        let old = directory.ring
        for handOff in directory.update(ring: ring) {
            guard let target = indexOf[handOff.target] else { continue }
            stats.handOffEntriesSent += handOff.entries.count
            send(.handOff(handOff), to: target, into: &effects)
        }
        cache.dropEntries(notOn: directory.ring)
        guard settings.reRegisterOnOwnerChange else { return }
        // Dictionary order is seeded per process: sort so the run replays from its seed.
        let moved = ActivationDirectory.reRegistrations(of: activations.keys, from: old, to: directory.ring).sorted()
        for key in moved {
            stats.reRegistrations += 1
            startOperation(DirectoryOperation(key: key, purpose: .reRegister, step: .lookup), now: now, into: &effects)
        }
    }

    mutating func deactivate(_ key: String, address: ActivationAddress) {
        guard address.node == id, activations[key] == address.epoch else { return }
        activations[key] = nil
        stats.duplicatesDeactivated += 1
    }

    func send(_ message: DirectorySimMessage, to node: Int, into effects: inout [Effect]) {
        effects.append(.send(message, to: node, reliable: true, bytes: message.estimatedBytes))
    }
}
