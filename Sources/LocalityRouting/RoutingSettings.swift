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

    /// The defaults given on each property.
    public init() {}
}
