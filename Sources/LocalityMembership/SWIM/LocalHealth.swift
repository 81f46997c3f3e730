/// Lifeguard's local health multiplier (Lifeguard §IV.A; memberlist awareness.go).
///
/// "A member that is slow to process messages should be slow to suspect others": the
/// score grows when this member misses acks or nacks or has to refute a suspicion about
/// itself, shrinks on every successful probe, and scales the probe interval and timeout by
/// (score + 1).
public struct LocalHealth: Sendable, Hashable {
    /// Current score in 0 ..< maximum.
    public private(set) var score: Int = 0
    /// Exclusive upper bound of the score (memberlist `AwarenessMaxMultiplier`).
    public let maximum: Int

    /// A score of 0 (healthy) that stays below `maximum` (at least 1).
    public init(maximum: Int) {
        self.maximum = max(1, maximum)
    }

    /// Adds `delta`, clamped to 0 ..< maximum.
    public mutating func apply(_ delta: Int) {
        score = min(max(score + delta, 0), maximum - 1)
    }

    /// `timeout` × (score + 1).
    public func scale(_ timeout: Duration) -> Duration {
        timeout * (score + 1)
    }
}
