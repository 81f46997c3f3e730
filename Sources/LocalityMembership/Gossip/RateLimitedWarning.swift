/// Lets a repeated warning through at most once per `interval`, and counts the ones held
/// back in between, so a flood of bad packets costs one log line a minute.
struct RateLimitedWarning: Sendable {
    let interval: Duration
    private var lastWarning: ContinuousClock.Instant?
    private var suppressed = 0

    init(every interval: Duration) {
        self.interval = interval
    }

    /// Nil when the warning is held back; otherwise how many were held back since the
    /// last one let through.
    mutating func shouldWarn(now: ContinuousClock.Instant) -> Int? {
        if let lastWarning, now - lastWarning < interval {
            suppressed += 1
            return nil
        }
        lastWarning = now
        defer { suppressed = 0 }
        return suppressed
    }
}
