import LocalityCore

/// Exponential backoff with jitter between connection attempts to one peer.
///
/// Delay after the n-th consecutive failure: a uniform draw from [d/2, d] with
/// d = min(maxDelay, baseDelay × 2^(n-1)) ("equal jitter", AWS Architecture Blog,
/// "Exponential Backoff and Jitter"): peers that lost a node together do not reconnect
/// in lockstep. Pure: randomness comes from the `SeededRandom` it owns.
public struct ReconnectBackoff: Sendable {
    private let baseDelay: Duration
    private let maxDelay: Duration
    private var random: SeededRandom
    /// Consecutive failures since the last success.
    public private(set) var failures = 0

    /// A backoff starting at `baseDelay`, capped at `maxDelay`, drawing jitter from `random`.
    public init(baseDelay: Duration, maxDelay: Duration, random: SeededRandom) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.random = random
    }

    /// Records a failed attempt and returns how long to wait before the next one.
    public mutating func nextDelay() -> Duration {
        failures += 1
        let exponent = min(failures - 1, 30)
        let ceiling = min(maxDelay.nanoseconds, baseDelay.nanoseconds.multipliedReportingOverflow(by: 1 << exponent).partialValue)
        let capped = max(ceiling, 0)
        let jittered = Double(capped) * (0.5 + 0.5 * random.nextUnit())
        return .nanoseconds(Int64(jittered))
    }

    /// Records a successful connection.
    public mutating func reset() {
        failures = 0
    }
}
