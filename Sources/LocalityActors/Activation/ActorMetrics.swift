import Metrics
import Synchronization

/// The virtual-actor runtime's swift-metrics instruments (`locality_actor_*`).
///
/// - `locality_actor_activations` (gauge): live activations, loading or ready.
/// - `locality_actor_activations_total` (counter): activations that finished loading.
/// - `locality_actor_activation_failures_total` (counter): loads that threw.
/// - `locality_actor_deactivations_total{reason}` (counter): `idle`, `evicted`,
///   `shutdown`, `conflict` (dropped after a stale etag, without `onDeactivate`),
///   `outcome_unknown` (dropped after a write whose outcome is unknown, without
///   `onDeactivate`: the next call reloads the state the store holds).
/// - `locality_actor_evictions_total{reason}` (counter): `cap` (activation cap),
///   `memory` (memory budget).
/// - `locality_actor_refusals_total{reason}` (counter): new activations refused with
///   `overloaded` because every activation was busy: `cap`, `memory`.
/// - `locality_actor_mailbox_depth` (gauge): calls waiting for their turn, all
///   activations together.
/// - `locality_actor_memory_bytes` (gauge): estimated memory of the live activations.
/// - `locality_actor_call_duration_seconds{location}` (timer): calls from this node,
///   `local` (run here, queueing included) or `remote` (sent to the owner).
/// - `locality_actor_idempotent_replays_total{answer}` (counter): calls retried under an
///   idempotency key the actor had run, not run again: `result` (first result replayed),
///   `applied` (answered `already_applied`).
/// - `locality_actor_idempotency_keys_dropped_total` (counter): keys forgotten before their
///   window ended because an actor held `keysPerActor` newer ones.
struct ActorMetrics: Sendable {
    enum DeactivationReason: String, CaseIterable {
        case idle, evicted, shutdown, conflict
        case outcomeUnknown = "outcome_unknown"
    }

    enum EvictionReason: String, CaseIterable {
        case cap, memory
    }

    let liveActivations: Gauge
    let activations: Counter
    let failedActivations: Counter
    private let deactivations: [String: Counter]
    private let evictions: [String: Counter]
    private let refusals: [String: Counter]
    let memoryBytes: Gauge
    let localCalls: Timer
    let remoteCalls: Timer
    /// Waiting calls of every mailbox; each mailbox adds and removes its own.
    let mailboxDepth: MailboxDepth
    let replayedResults: Counter
    let replayedApplied: Counter
    let idempotencyKeysDropped: Counter

    init(factory: any MetricsFactory = MetricsSystem.factory) {
        liveActivations = Gauge(label: "locality_actor_activations", factory: factory)
        activations = Counter(label: "locality_actor_activations_total", factory: factory)
        failedActivations = Counter(label: "locality_actor_activation_failures_total", factory: factory)
        var deactivations: [String: Counter] = [:]
        for reason in DeactivationReason.allCases {
            deactivations[reason.rawValue] = Counter(
                label: "locality_actor_deactivations_total", dimensions: [("reason", reason.rawValue)], factory: factory)
        }
        self.deactivations = deactivations
        var evictions: [String: Counter] = [:]
        var refusals: [String: Counter] = [:]
        for reason in EvictionReason.allCases {
            evictions[reason.rawValue] = Counter(
                label: "locality_actor_evictions_total", dimensions: [("reason", reason.rawValue)], factory: factory)
            refusals[reason.rawValue] = Counter(
                label: "locality_actor_refusals_total", dimensions: [("reason", reason.rawValue)], factory: factory)
        }
        self.evictions = evictions
        self.refusals = refusals
        memoryBytes = Gauge(label: "locality_actor_memory_bytes", factory: factory)
        localCalls = Timer(label: "locality_actor_call_duration_seconds", dimensions: [("location", "local")], factory: factory)
        remoteCalls = Timer(label: "locality_actor_call_duration_seconds", dimensions: [("location", "remote")], factory: factory)
        mailboxDepth = MailboxDepth(gauge: Gauge(label: "locality_actor_mailbox_depth", factory: factory))
        replayedResults = Counter(label: "locality_actor_idempotent_replays_total", dimensions: [("answer", "result")], factory: factory)
        replayedApplied = Counter(label: "locality_actor_idempotent_replays_total", dimensions: [("answer", "applied")], factory: factory)
        idempotencyKeysDropped = Counter(label: "locality_actor_idempotency_keys_dropped_total", factory: factory)
    }

    func deactivated(_ reason: DeactivationReason) {
        deactivations[reason.rawValue]?.increment()
    }

    func evicted(_ reason: EvictionReason) {
        evictions[reason.rawValue]?.increment()
        deactivations[DeactivationReason.evicted.rawValue]?.increment()
    }

    func refused(_ reason: EvictionReason) {
        refusals[reason.rawValue]?.increment()
    }
}

/// The number of calls waiting in all mailboxes of one system, mirrored in a gauge.
/// Only the waiting path touches it (a call that enters at once does not); the gauge is
/// set under the lock, so it never shows an older value after a newer one.
final class MailboxDepth: Sendable {
    private let count = Mutex(0)
    private let gauge: Gauge

    init(gauge: Gauge) {
        self.gauge = gauge
    }

    func add(_ delta: Int) {
        guard delta != 0 else { return }
        count.withLock { count in
            count += delta
            gauge.record(count)
        }
    }

    var value: Int { count.withLock { $0 } }
}
