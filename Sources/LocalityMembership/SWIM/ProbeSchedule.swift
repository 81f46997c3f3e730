import LocalityCore

/// Which member to probe when: a rotation over the ring every member agrees on, in time
/// slots of one protocol period ("epochs") that every member agrees on too.
///
/// SWIM §4.3 probes in a random round-robin order: each member probes each other member
/// once per round, but in any one period a given member is probed by nobody with
/// probability (1 − 1/N)^(N−1) ≈ 1/e, so the wait before a crashed member's first probe
/// is geometric (a few periods in the tail: 10 crashes in 1,000 members saw up to 5 s).
/// Here, in epoch `e`, the member at ring position `p` probes position `p + 1 + e mod
/// (N − 1)`: a rotation, so when views agree every member is probed by exactly one other
/// member in every period, by a different one each period (like the rotating observers of
/// Rapid's K-ring monitoring, Suresh et al. 2018), and a member still probes every other
/// within N − 1 periods (SWIM's time-bounded completeness, tighter than its 2N − 1).
///
/// Epochs count protocol periods of wall-clock time (`clockOffset` maps the core's
/// monotonic `now` onto it), so members on hosts with synchronized clocks agree; a member
/// starts its probes at a fixed random phase within each epoch (memberlist staggers its
/// tickers too). Views that disagree (a join not yet heard of) or clocks that drift only
/// make the cover imperfect for a while: a member then is probed twice or not at all in a
/// period, as with the random order. A member whose Lifeguard health stretches its
/// period skips epochs and probes the targets of the epochs it runs in.
struct ProbeSchedule: Sendable {
    let interval: Duration
    /// Wall-clock time minus the core's `now`.
    let clockOffset: Duration
    /// Where in each epoch this member starts its probe, in 0 ..< interval.
    let phase: Duration
    /// This member's place in the ring (`MemberTable.scheduleKey` of its id).
    let selfKey: UInt64

    /// The epoch whose probe slot (its start plus `phase`) is the latest at or before `now`.
    func epoch(at now: Timestamp) -> Int64 {
        let shifted = now.nanoseconds &+ clockOffset.nanoseconds &- phase.nanoseconds
        let length = max(1, interval.nanoseconds)
        let quotient = shifted / length
        return shifted % length < 0 ? quotient - 1 : quotient
    }

    /// The probe slot of the epoch after the one running at `now`.
    func nextSlot(after now: Timestamp) -> Timestamp {
        let length = max(1, interval.nanoseconds)
        let start = (epoch(at: now) + 1) &* length
        return Timestamp(nanoseconds: start &- clockOffset.nanoseconds &+ phase.nanoseconds)
    }

    /// The member to probe in `epoch`: the one `1 + epoch mod (N − 1)` places past this
    /// member's own ring position.
    func target(epoch: Int64, table: MemberTable) -> Int32? {
        let count = table.ring.count
        guard count > 0 else { return nil }
        let rotation = Int(((epoch % Int64(count)) + Int64(count)) % Int64(count))
        let position = table.ringPosition(of: selfKey)
        return table.ring[(position + rotation) % count]
    }
}
