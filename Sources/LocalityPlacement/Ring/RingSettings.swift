import LocalityCore

/// Configuration of a `HashRing`.
public struct RingSettings: Sendable, Equatable {
    /// Virtual nodes (ring points) per member of weight 1. Default 256. Load spread is
    /// σ ≈ 1/√V of the mean (256 → ~6%); lookup cost grows with log2(V·N).
    public var virtualNodesPerMember: Int
    /// Relative capacity of members by name (default 1.0 for names not listed, unit:
    /// multiple of an ordinary member). A member of weight w places ⌈w·V⌉ points, at least 1.
    public var weights: [String: Double]
    /// How keys map to members. Default `.virtualNodes`.
    public var algorithm: RingAlgorithm
    /// log2 of the bucket table's size with `.rendezvousBuckets`, 8…24. Default 18
    /// (262,144 buckets, 1 MiB per ring; a member's share within about 1 % of the mean at
    /// 10 members).
    public var bucketBits: Int

    /// `virtualNodesPerMember` points per member of weight 1 (at least 1), `weights` by
    /// member name, the mapping `algorithm` (with `bucketBits` for rendezvous buckets).
    public init(
        virtualNodesPerMember: Int = 256, weights: [String: Double] = [:], algorithm: RingAlgorithm = .virtualNodes, bucketBits: Int = 18
    ) {
        self.virtualNodesPerMember = max(1, virtualNodesPerMember)
        self.weights = weights
        self.algorithm = algorithm
        self.bucketBits = min(24, max(8, bucketBits))
    }

    /// The relative capacity of `member` (1 unless `weights` says otherwise; a weight that
    /// is not a positive finite number counts as 1).
    public func weight(of member: NodeID) -> Double {
        let weight = weights[member.name] ?? 1.0
        return weight.isFinite && weight > 0 ? weight : 1.0
    }

    /// Number of ring points `member` places.
    public func virtualNodes(for member: NodeID) -> Int {
        let weight = weights[member.name] ?? 1.0
        guard weight.isFinite, weight > 0 else { return 1 }
        return max(1, Int((weight * Double(virtualNodesPerMember)).rounded(.up)))
    }
}

/// How a `HashRing` maps keys to members.
public enum RingAlgorithm: String, Sendable, Equatable, CaseIterable {
    /// Karger's ring: `virtualNodesPerMember` points per member, a key owned by the first
    /// point after its hash (the original Locality ring; its owners are golden-tested).
    case virtualNodes = "vnodes"
    /// Rendezvous hashing over 2^`bucketBits` buckets: even to about 1 %, minimal movement
    /// when any member joins or leaves, one array read per lookup.
    case rendezvousBuckets = "buckets"
}
