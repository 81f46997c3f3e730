import LocalityCore
import LocalityPlacement

/// Configuration of a node's `DirectoryService` (the directory over the network).
public struct DirectoryServiceSettings: Sendable, Equatable {
    /// The partition core's settings: ring, partition and cache bounds, hand-off batch size
    /// (defaults of `DirectorySettings`). Its `ring` must match the rings passed to
    /// `DirectoryService.updateRing`, or nodes disagree about partition owners.
    public var directory: DirectorySettings
    /// Retries from this node's own view after `not_owner` (once `maxRedirects` hints were
    /// followed) or an unreachable owner (default 3 retries).
    public var retryBudget: Int
    /// Pause before the first retry, doubled on each further one and never more than half
    /// the time left before the deadline (default 10 ms).
    public var retryDelay: Duration
    /// How long one hand-off message may take before it counts as failed (default 5 s);
    /// the entries of a failed hand-off come back through their hosts' re-registration.
    public var handOffTimeout: Duration
    /// Seed of the cache's eviction stream (default 0; XORed with the node's uid).
    public var cacheSeed: UInt64

    /// Settings with the defaults above; a negative retry budget becomes 0.
    public init(
        directory: DirectorySettings = DirectorySettings(),
        retryBudget: Int = 3,
        retryDelay: Duration = .milliseconds(10),
        handOffTimeout: Duration = .seconds(5),
        cacheSeed: UInt64 = 0
    ) {
        self.directory = directory
        self.retryBudget = max(0, retryBudget)
        self.retryDelay = retryDelay
        self.handOffTimeout = handOffTimeout
        self.cacheSeed = cacheSeed
    }
}

/// Counts of what a directory service did, for tests and `status`.
public struct DirectoryServiceCounters: Sendable, Equatable {
    /// Lookups answered from the caller's cache (no message sent).
    public var cacheHits = 0
    /// Requests answered by this node's own partition for a local caller.
    public var handledLocally = 0
    /// Requests sent to another node's partition.
    public var remoteRequests = 0
    /// Requests this partition answered for other nodes.
    public var servedRemote = 0
    /// `not_owner` hints followed straight away.
    public var redirects = 0
    /// Retries from this node's own view after a backoff (`not_owner` beyond the hints, or
    /// an unreachable owner).
    public var retries = 0
    /// Hand-off messages sent, and those that failed (their entries return by re-registration).
    public var handOffsSent = 0
    /// Hand-off messages that failed.
    public var handOffsFailed = 0
    /// Hand-off messages received and merged.
    public var handOffsReceived = 0
    /// Conflicts found while merging hand-offs (reported to the conflict observer).
    public var conflicts = 0
    /// Re-registrations sent after a ring change.
    public var reRegistrations = 0
}
