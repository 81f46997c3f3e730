import LocalityCore
import Synchronization

/// Per-client token buckets (see `RateLimitSettings` for the bound on clients and what
/// happens when it is reached). Time comes from an injected `LocalityClock`.
final class ClientRateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Timestamp
    }

    /// Outcome of one request.
    enum Decision: Equatable {
        case allowed
        /// Refused; a token is back in `retryAfterSeconds` (rounded up, at least 1).
        case limited(retryAfterSeconds: Int)
    }

    let settings: RateLimitSettings
    private let clock: any LocalityClock
    private let buckets = Mutex<[String: Bucket]>([:])
    private let evictionCount = Atomic<Int>(0)

    init(settings: RateLimitSettings, clock: any LocalityClock = MonotonicClock()) {
        self.settings = settings
        self.clock = clock
    }

    /// Clients tracked now (at most `settings.maxClients`).
    var clientCount: Int { buckets.withLock { $0.count } }

    /// Buckets evicted while the map was full.
    var evictions: Int { evictionCount.load(ordering: .relaxed) }

    /// Takes a token for `client` if one is there.
    func admit(_ client: String) -> Decision {
        let now = clock.now()
        let settings = self.settings
        return buckets.withLock { buckets in
            var bucket = buckets[client] ?? Bucket(tokens: settings.burst, updated: now)
            if buckets[client] == nil, buckets.count >= max(1, settings.maxClients) {
                makeRoom(in: &buckets, now: now)
            }
            let elapsed = max(0, (now - bucket.updated).inSeconds)
            bucket.tokens = min(settings.burst, bucket.tokens + elapsed * settings.ratePerSecond)
            bucket.updated = now
            let decision: Decision
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                decision = .allowed
            } else {
                let wait = settings.ratePerSecond > 0 ? (1 - bucket.tokens) / settings.ratePerSecond : 60
                decision = .limited(retryAfterSeconds: max(1, Int(wait.rounded(.up))))
            }
            buckets[client] = bucket
            return decision
        }
    }

    /// Drops full buckets (indistinguishable from new clients); if none, the least
    /// recently seen one. O(clients), run only when the map is full.
    private func makeRoom(in buckets: inout [String: Bucket], now: Timestamp) {
        let before = buckets.count
        buckets = buckets.filter { _, bucket in
            bucket.tokens + max(0, (now - bucket.updated).inSeconds) * settings.ratePerSecond < settings.burst
        }
        if buckets.count < before { return }
        if let oldest = buckets.min(by: { $0.value.updated < $1.value.updated })?.key {
            buckets.removeValue(forKey: oldest)
            evictionCount.add(1, ordering: .relaxed)
        }
    }
}

extension Duration {
    /// The duration in seconds.
    var inSeconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
