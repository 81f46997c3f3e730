import LocalityCore

/// What a placement decision sees: the ring of live members, their current loads and the
/// node that is deciding.
public struct PlacementContext: Sendable {
    /// Live members (and the ring over them).
    public var ring: HashRing
    /// Current load per member (activations, keys or bytes: any unit, the same for all);
    /// members not listed count as 0.
    public var loads: [NodeID: Int]
    /// The node making the decision, if it is a member (for prefer-local).
    public var local: NodeID?

    /// A context over `ring`, with the loads known and the deciding node.
    public init(ring: HashRing, loads: [NodeID: Int] = [:], local: NodeID? = nil) {
        self.ring = ring
        self.loads = loads
        self.local = local
    }

    /// Load of `member` (0 when unknown).
    public func load(of member: NodeID) -> Int { loads[member] ?? 0 }
}

/// Chooses the node on which a new activation of a key is created (Orleans' placement
/// strategies: hash-based, random, prefer-local, activation-count-based).
///
/// Strategies are deterministic: the same key, context and seed give the same answer on
/// every node and every run. Randomized strategies own a `SeededRandom`, so the method is
/// `mutating`. A strategy returns nil only when the ring is empty.
public protocol PlacementStrategy: Sendable {
    /// Picks the member that activates `key`.
    mutating func place(_ key: String, in context: PlacementContext) -> NodeID?
}

/// The key's ring owner (Orleans `HashBasedPlacement`): no state, no load information,
/// every node agrees without talking.
public struct HashOwnerPlacement: PlacementStrategy {
    /// The stateless strategy.
    public init() {}

    public func place(_ key: String, in context: PlacementContext) -> NodeID? {
        context.ring.owner(of: key)
    }
}

/// Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam, SODA 2018, §2):
/// the first member along the key's walk whose load is below ⌈c·(m+1)/n⌉, where m is the
/// total load in the context.
public struct BoundedLoadPlacement: PlacementStrategy {
    /// c = 1+ε. Default 1.25.
    public var factor: Double

    /// The rule with c = `factor` (at least 1).
    public init(factor: Double = 1.25) {
        self.factor = max(1.0, factor)
    }

    public func place(_ key: String, in context: PlacementContext) -> NodeID? {
        let ring = context.ring
        let loads = ring.members.map { context.load(of: $0) }
        let total = loads.reduce(0, +)
        let capacity = HashRing.boundedCapacity(totalLoad: total, memberCount: loads.count, factor: factor)
        let index = loads.withUnsafeBufferPointer {
            ring.boundedOwnerIndex(forHash: HashRing.keyHash(key), loads: $0, capacity: capacity)
        }
        // Loads reported from elsewhere may exceed every capacity; fall back to the owner.
        return index.map { ring.members[$0] } ?? ring.owner(of: key)
    }
}

/// The power of two random choices (Mitzenmacher 2001; Scuba's ingest, Orleans
/// `ActivationCountBasedPlacement`): draw two distinct members uniformly at random and
/// take the one with the lower load (the first drawn on a tie). Max load drops from
/// Θ(log n / log log n) to Θ(log log n) above the mean.
public struct TwoChoicesPlacement: PlacementStrategy {
    private var random: SeededRandom

    /// Draws from `random`: the same seed gives the same choices.
    public init(random: SeededRandom) {
        self.random = random
    }

    public mutating func place(_ key: String, in context: PlacementContext) -> NodeID? {
        let members = context.ring.members
        switch members.count {
        case 0: return nil
        case 1: return members[0]
        default:
            let first = Int(random.next() % UInt64(members.count))
            var second = Int(random.next() % UInt64(members.count - 1))
            if second >= first { second += 1 }
            let a = members[first]
            let b = members[second]
            return context.load(of: b) < context.load(of: a) ? b : a
        }
    }
}

/// The deciding node itself when it is a live member (Orleans `PreferLocalPlacement`),
/// otherwise the key's ring owner.
public struct PreferLocalPlacement: PlacementStrategy {
    /// The stateless strategy.
    public init() {}

    public func place(_ key: String, in context: PlacementContext) -> NodeID? {
        if let local = context.local, context.ring.contains(local) { return local }
        return context.ring.owner(of: key)
    }
}

/// A member drawn uniformly at random from the seeded stream (Orleans `RandomPlacement`).
public struct RandomPlacement: PlacementStrategy {
    private var random: SeededRandom

    /// Draws from `random`: the same seed gives the same choices.
    public init(random: SeededRandom) {
        self.random = random
    }

    public mutating func place(_ key: String, in context: PlacementContext) -> NodeID? {
        let members = context.ring.members
        if members.isEmpty { return nil }
        return members[Int(random.next() % UInt64(members.count))]
    }
}
