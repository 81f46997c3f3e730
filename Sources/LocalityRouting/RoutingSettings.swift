/// Configuration of handle-or-forward routing.
public struct RoutingSettings: Sendable {
    /// Forwards one request may take before it fails with `unavailable` ("hop limit"):
    /// a loop between nodes whose views disagree ends here instead of storming.
    /// Default 3 hops.
    public var maxHops: Int = 3
    /// Extra attempts after `not_owner` or a lost/refused connection, each after
    /// re-resolving the owner. All attempts share the caller's deadline. Default 3.
    public var retryBudget: Int = 3
    /// Pause before the first retry; doubled for each further retry, never past the
    /// deadline. Gives membership a moment to converge. Default 10 ms.
    public var retryDelay: Duration = .milliseconds(10)

    /// Calls that may wait at once, node-wide, for an unreachable owner to be replaced
    /// (Akka's shard-region buffer): a call this node cannot connect to its owner for
    /// (nothing sent) waits, within its deadline, until membership moves the key to
    /// another member, then goes there, so clients see latency instead of errors during a failover.
    /// Past this many waiting calls, a call fails with `unavailable` as it would
    /// without waiting (`locality_routing_waiting_for_owner` shows the depth). 0 turns
    /// waiting off. Default 10,000.
    public var maxWaitingForOwner: Int = 10_000
    /// Longest pause between two looks at the ring while waiting for a new owner.
    /// Default 50 ms.
    public var ownerWaitPoll: Duration = .milliseconds(50)
    /// How long a waiting request looks at the ring before it tries the same owner
    /// again (a connect failure may have been brief; the transport's reconnect backoff
    /// makes a try against a dead owner cheap). Default 250 ms.
    public var ownerRetryInterval: Duration = .milliseconds(250)

    /// The defaults given on each property.
    public init() {}
}
