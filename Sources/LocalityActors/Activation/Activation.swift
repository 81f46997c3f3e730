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
    /// Set when its state hit a stale etag: deactivate without flushing.
    private let stale = Atomic<Bool>(false)
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

    func markStale() { stale.store(true, ordering: .relaxed) }

    var isStale: Bool { stale.load(ordering: .relaxed) }
}
