import LocalityCore
import LocalityPlacement

/// Messages between simulated directory nodes (and from the membership schedule).
public enum DirectorySimMessage: Sendable {
    /// A directory request to the partition owner; `id` names the caller's operation attempt.
    case request(id: UInt64, DirectoryRequest)
    /// The partition's answer to `request`.
    case reply(id: UInt64, DirectoryReply)
    /// Entries moving to their new partition owner after a membership change.
    case handOff(DirectoryHandOff)
    /// A hand-off met a live entry: the activation at `address` lost and must go.
    case deactivate(key: String, address: ActivationAddress)
    /// An actor call to the activation the caller resolved.
    case call(id: UInt64, key: String, address: ActivationAddress)
    /// Whether the called node hosts that activation (false plays the `not_owner` answer).
    case callReply(id: UInt64, active: Bool)
    /// A new membership view (from the membership schedule), numbered, with the ring over
    /// its members built once for every node.
    case view(version: Int, ring: HashRing)

    /// A rough encoded size, for the traffic statistics: a 16-byte header plus the keys,
    /// 24 bytes per address and 16 per member.
    public var estimatedBytes: Int {
        switch self {
        case .request(_, let request): return 16 + request.key.utf8.count + 24
        case .reply: return 16 + 24
        case .handOff(let handOff): return 16 + handOff.entries.reduce(0) { $0 + $1.key.utf8.count + 24 }
        case .deactivate(let key, _): return 16 + key.utf8.count + 24
        case .call(_, let key, _): return 16 + key.utf8.count + 24
        case .callReply: return 16
        case .view(_, let ring): return 16 + ring.members.count * 16
        }
    }
}

/// The phase of the experiment an activation request belongs to.
public enum DirectorySimPhase: Int, Sendable, CaseIterable {
    /// Every key activated once before churn.
    case warmup = 0
    /// Traffic while members crash and join.
    case churn = 1
    /// After convergence: every key activated once more from a random live node.
    case check = 2
}

/// One scheduled activation request: at `time`, activate key number `key` from this node.
public struct DirectoryWorkItem: Sendable {
    /// When to make the request, in nanoseconds of virtual time.
    public var time: Int64
    /// The key's number (keys are numbered 0 ..< `DirectorySimSettings.keys`).
    public var key: Int32
    /// The phase the request belongs to, for the per-phase counters.
    public var phase: DirectorySimPhase

    /// A request for key number `key` at `time` (nanoseconds), in `phase`.
    public init(time: Int64, key: Int32, phase: DirectorySimPhase) {
        self.time = time
        self.key = key
        self.phase = phase
    }
}

/// Counters kept by one simulated directory node.
public struct DirectorySimStats: Sendable {
    /// Histogram bucket count for lookup hops; the last bucket holds everything above.
    public static let hopBuckets = 16
    /// Activation requests completed, per phase.
    public var completed = [Int](repeating: 0, count: 3)
    /// Directory lookup messages each completed activation request needed, per phase
    /// (histogram: index = hops).
    public var lookupHops = [[Int]](repeating: [Int](repeating: 0, count: hopBuckets), count: 3)
    /// Requests given up after `maxAttempts` failures.
    public var abandoned = 0
    /// Requests refused because `maxPendingOperations` were in flight.
    public var rejectedOverload = 0
    /// `not_owner` answers received from partitions.
    public var notOwnerReplies = 0
    /// Calls that reached a node without the activation (stale cache or entry).
    public var staleAddresses = 0
    /// Activation requests answered from the lookup cache.
    public var cacheHits = 0
    /// Activations created on this node.
    public var activationsCreated = 0
    /// Activations this node dropped because another one of the key won.
    public var duplicatesDeactivated = 0
    /// Re-registrations started after a partition owner changed.
    public var reRegistrations = 0
    /// Entries sent in hand-offs.
    public var handOffEntriesSent = 0
    /// Hand-off messages that could not be delivered.
    public var handOffsLost = 0

    /// All counters at zero.
    public init() {}

    mutating func add(_ other: DirectorySimStats) {
        for phase in 0..<3 {
            completed[phase] += other.completed[phase]
            for bucket in 0..<Self.hopBuckets { lookupHops[phase][bucket] += other.lookupHops[phase][bucket] }
        }
        abandoned += other.abandoned
        rejectedOverload += other.rejectedOverload
        notOwnerReplies += other.notOwnerReplies
        staleAddresses += other.staleAddresses
        cacheHits += other.cacheHits
        activationsCreated += other.activationsCreated
        duplicatesDeactivated += other.duplicatesDeactivated
        reRegistrations += other.reRegistrations
        handOffEntriesSent += other.handOffEntriesSent
        handOffsLost += other.handOffsLost
    }
}
