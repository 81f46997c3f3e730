import LocalityCore

/// Per-user token buckets held in memory on the user's owner node (the state that
/// makes the service stateful: routing sends every request for a user here).
///
/// Bound: at most `maxUsers` buckets; when full, buckets that have refilled completely
/// (idle users, nothing to remember) are dropped; if none can be dropped the request is
/// refused with `overloaded`.
actor TokenBuckets {
    struct Bucket {
        var tokens: Double
        var updated: Timestamp
    }

    /// Tokens a bucket holds when full.
    let capacity: Double
    /// Tokens added per second.
    let refillPerSecond: Double
    /// Users tracked at once.
    let maxUsers: Int
    private let clock: any LocalityClock
    private var buckets: [String: Bucket] = [:]

    init(capacity: Double, refillPerSecond: Double, maxUsers: Int, clock: any LocalityClock) {
        self.capacity = capacity
        self.refillPerSecond = refillPerSecond
        self.maxUsers = maxUsers
        self.clock = clock
    }

    /// Takes one token for `user`; returns whether it was allowed and the tokens left.
    func take(_ user: String) throws -> (allowed: Bool, remaining: Double) {
        let now = clock.now()
        if buckets[user] == nil, buckets.count >= maxUsers {
            buckets = buckets.filter { refilled($0.value, now: now) < capacity }
            guard buckets.count < maxUsers else {
                throw LocalityError(.overloaded, "tracking \(buckets.count) users; limit \(maxUsers)")
            }
        }
        var bucket = buckets[user] ?? Bucket(tokens: capacity, updated: now)
        bucket.tokens = refilled(bucket, now: now)
        bucket.updated = now
        let allowed = bucket.tokens >= 1
        if allowed { bucket.tokens -= 1 }
        buckets[user] = bucket
        return (allowed, bucket.tokens)
    }

    private func refilled(_ bucket: Bucket, now: Timestamp) -> Double {
        min(capacity, bucket.tokens + (now - bucket.updated).seconds * refillPerSecond)
    }
}
