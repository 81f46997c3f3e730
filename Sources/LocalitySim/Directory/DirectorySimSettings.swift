import LocalityCore
import LocalityPlacement

/// Configuration of the directory simulation (`locality sim directory`).
public struct DirectorySimSettings: Sendable {
    /// Members at time zero. Default 100.
    public var nodes = 100
    /// Keys, named `key-0 … key-(K-1)`. Default 1,000,000.
    public var keys = 1_000_000
    /// Membership changes (a crash or a join, half each) per second of churn. Default 1.
    public var churnRate = 1.0
    /// Seed of every random choice.
    public var seed: UInt64 = 1
    /// Warm-up: every key is activated once from a random member. Default 2 s.
    public var warmup: Duration = .seconds(2)
    /// Length of the churn window. Default 10 s.
    public var churnDuration: Duration = .seconds(10)
    /// Quiet time after churn for views and re-registrations to settle. Default 5 s.
    public var quiet: Duration = .seconds(5)
    /// Window over which every key is activated again from a random live node. Default 2 s.
    public var checkDuration: Duration = .seconds(2)
    /// Time after the check window for in-flight requests to finish. Default 5 s.
    public var drain: Duration = .seconds(5)
    /// Keys activated during churn, as a fraction of all keys (random keys). Default 0.2.
    public var churnTrafficFraction = 0.2
    /// A membership change reaches each node after a uniform delay in [min, max]
    /// (dissemination time). Defaults 50 ms and 1 s.
    public var viewDelayMin: Duration = .milliseconds(50)
    /// The longest such delay (see `viewDelayMin`).
    public var viewDelayMax: Duration = .seconds(1)
    /// Crashes never take the live set below this fraction of `nodes`. Default 0.5.
    public var minLiveFraction = 0.5
    /// Wait before retrying a failed request: backoff × min(failures, 5). Default 100 ms.
    public var retryBackoff: Duration = .milliseconds(100)
    /// Failures after which a request is abandoned. Default 100.
    public var maxAttempts = 100
    /// A request with no answer after this long counts as failed. Default 2 s.
    public var requestTimeout: Duration = .seconds(2)
    /// Operations one node keeps in flight; beyond, new activation requests are refused
    /// and counted (`rejectedOverload`). Default 200,000.
    public var maxPendingOperations = 200_000
    /// Whether hosts re-register activations whose partition owner changed (the recovery
    /// rule of `ActivationDirectory`). Default true; false only to show what it prevents.
    public var reRegisterOnOwnerChange = true
    /// The directory under test.
    public var directory = DirectorySettings()

    /// Every setting at its default.
    public init() {}
}
