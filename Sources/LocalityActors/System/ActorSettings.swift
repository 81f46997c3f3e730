/// Configuration of the virtual-actor runtime (`ClusterSystem`).
public struct ActorSettings: Sendable {
    /// Calls waiting for their turn at one activation. A call past this bound fails at
    /// once with `LocalityError(.overloaded)`; it is never queued. Default 1,000 calls.
    public var mailboxCapacity: Int = 1_000
    /// An activation with no call (and no keep-alive timer tick) for this long is
    /// deactivated at the next collection. Default 15 minutes (Orleans' default age).
    public var idleTimeout: Duration = .seconds(15 * 60)
    /// How often the idle collector runs. Default 60 seconds (Orleans' collection quantum).
    public var collectionQuantum: Duration = .seconds(60)
    /// Live activations (loading and active) on this node. Activating one more first
    /// evicts the least recently used idle activation; when every activation is in a turn
    /// the new activation fails with `LocalityError(.overloaded)`. Default 1,000,000.
    public var maxActivations: Int = 1_000_000
    /// Times one call re-looks up its activation after finding it closing (deactivated
    /// between lookup and turn). Past this the call fails with `unavailable`. Default 8.
    public var maxActivationRetries: Int = 8

    /// Time a remote call may take, forwarding and retries included, before it fails
    /// with `deadline_exceeded`. Default 10 seconds.
    public var callTimeout: Duration = .seconds(10)

    /// Where a first call activates an actor. Default `.hashOwner` (the ring owner, no
    /// directory); the directory-backed modes need `attach(router:resolver:directory:)`.
    public var placement: ActorPlacement = .hashOwner

    public init() {}
}
