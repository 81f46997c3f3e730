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

    /// Estimated memory all activations of this node may take, in bytes; nil (default)
    /// sets no budget. An activation counts `activationOverheadBytes` plus the encoded
    /// size of its `PersistentState` values (updated on each read and write). Over the
    /// budget, the least recently used idle activations are deactivated (`onDeactivate`
    /// runs; an activation in a turn is never chosen); a new activation that does not fit
    /// while every activation is busy fails with `LocalityError(.overloaded)`.
    public var memoryBudgetBytes: Int? = nil
    /// Fixed part of one activation's memory estimate: instance, mailbox, catalog entry.
    /// Default 1,024 bytes (an idle `PlayerStats` activation measured 817 bytes).
    public var activationOverheadBytes: Int = 1_024

    /// Time a remote call may take, forwarding and retries included, before it fails
    /// with `deadline_exceeded`. Default 10 seconds.
    public var callTimeout: Duration = .seconds(10)

    /// Where a first call activates an actor. Default `.hashOwner` (the ring owner, no
    /// directory); the directory-backed modes need `attach(router:resolver:directory:)`.
    public var placement: ActorPlacement = .hashOwner

    /// How long and how many idempotency keys each actor remembers (see `IdempotencyKey`).
    public var idempotency = IdempotencySettings()

    /// Every bound and timer at its default (given on each property).
    public init() {}
}

/// What an actor remembers of the calls it ran under idempotency keys: a call retried
/// under the same key within `window`, among the actor's last `keysPerActor` keyed calls,
/// runs at most once and answers its first result.
///
/// Past either bound a key is forgotten and a retry runs again; the metric
/// `locality_actor_idempotency_keys_dropped_total` counts keys the count bound dropped
/// before their window ended (raise `keysPerActor` if it grows). The keys and results
/// travel with the actor's persisted state on every write, so the bounds also bound
/// that record: at most `keysPerActor` × (key + `maxResultBytes`).
public struct IdempotencySettings: Sendable, Equatable {
    /// How long a key is remembered after its call. Default 10 minutes.
    public var window: Duration = .seconds(600)
    /// Most keys one actor remembers; the oldest go first. Default 128.
    public var keysPerActor: Int = 128
    /// Largest result kept for a replay, in bytes; a larger one is remembered as applied
    /// (a retry answers `already_applied`). Default 1,024 bytes.
    public var maxResultBytes: Int = 1_024

    /// The defaults above.
    public init() {}
}
