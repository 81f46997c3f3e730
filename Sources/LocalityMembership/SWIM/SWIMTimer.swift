import LocalityCore

/// A deadline held in the core's timer heap. Entries are never removed early: when one
/// fires, the core checks it is still current (lazy cancellation).
struct SWIMTimer: Comparable, Sendable {
    enum Kind: Sendable {
        /// A suspicion may have expired (Lifeguard §IV.B).
        case suspicion(NodeID)
        /// A dead or left member may be reaped.
        case reap(NodeID)
        /// An indirect probe we run for another member timed out (send the nack).
        case relay(UInt32)
    }

    var deadline: Timestamp
    var sequence: UInt64
    var kind: Kind

    static func < (lhs: SWIMTimer, rhs: SWIMTimer) -> Bool {
        (lhs.deadline, lhs.sequence) < (rhs.deadline, rhs.sequence)
    }

    static func == (lhs: SWIMTimer, rhs: SWIMTimer) -> Bool {
        lhs.deadline == rhs.deadline && lhs.sequence == rhs.sequence
    }
}
