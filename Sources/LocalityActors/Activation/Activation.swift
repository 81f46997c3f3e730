import LocalityCore
import Synchronization

/// One live activation: the actor instance on this node, its mailbox, its last use and
/// the calls it ran under idempotency keys.
final class Activation: Sendable {
    let id: VirtualActorID
    let instance: any VirtualActor
    let mailbox: Mailbox
    let ledger: IdempotencyLedger
    /// Nanoseconds of the last call start or end (or keep-alive timer tick).
    private let lastUse: Atomic<Int64>
    /// Why its state in memory can no longer be trusted (`StaleReason.rawValue`, 0 while
    /// it can): it is dropped without flushing when its turn ends.
    private let stale = Atomic<UInt8>(0)
    /// Encoded bytes of its persistent state, as last read or written (changed by the
    /// catalog under its lock, so the catalog's total stays the sum).
    private let stateByteCount = Atomic<Int>(0)

    init(
        id: VirtualActorID, instance: any VirtualActor, ledger: IdempotencyLedger, mailboxCapacity: Int, now: Timestamp,
        depth: MailboxDepth? = nil
    ) {
        self.id = id
        self.instance = instance
        self.ledger = ledger
        self.mailbox = Mailbox(capacity: mailboxCapacity, depth: depth)
        self.lastUse = Atomic(now.nanoseconds)
    }

    var stateBytes: Int {
        get { stateByteCount.load(ordering: .relaxed) }
        set { stateByteCount.store(newValue, ordering: .relaxed) }
    }

    func touch(_ now: Timestamp) {
        lastUse.store(now.nanoseconds, ordering: .relaxed)
    }

    var lastUsed: Timestamp { Timestamp(nanoseconds: lastUse.load(ordering: .relaxed)) }

    func markStale(_ reason: StaleReason) { stale.store(reason.rawValue, ordering: .relaxed) }

    var isStale: Bool { stale.load(ordering: .relaxed) != 0 }

    /// Why it went stale, nil while it has not.
    var staleReason: StaleReason? { StaleReason(rawValue: stale.load(ordering: .relaxed)) }

    /// Why an activation's state in memory can no longer be trusted.
    enum StaleReason: UInt8 {
        /// A write found a stale etag, or another node's activation is the recorded one.
        case conflict = 1
        /// A write's outcome is unknown: the store may hold a newer value than memory.
        case outcomeUnknown = 2
    }
}
