import LocalityCore

/// Configuration of a `HashRing`.
public struct RingSettings: Sendable, Equatable {
    /// Virtual nodes (ring points) per member of weight 1. Default 256. Load spread is
    /// σ ≈ 1/√V of the mean (256 → ~6%); lookup cost grows with log2(V·N).
    public var virtualNodesPerMember: Int
    /// Relative capacity of members by name (default 1.0 for names not listed, unit:
    /// multiple of an ordinary member). A member of weight w places ⌈w·V⌉ points, at least 1.
    public var weights: [String: Double]

    /// `virtualNodesPerMember` points per member of weight 1 (at least 1), `weights` by member name.
    public init(virtualNodesPerMember: Int = 256, weights: [String: Double] = [:]) {
        self.virtualNodesPerMember = max(1, virtualNodesPerMember)
        self.weights = weights
    }

    /// Number of ring points `member` places.
    public func virtualNodes(for member: NodeID) -> Int {
        let weight = weights[member.name] ?? 1.0
        guard weight.isFinite, weight > 0 else { return 1 }
        return max(1, Int((weight * Double(virtualNodesPerMember)).rounded(.up)))
    }
}
