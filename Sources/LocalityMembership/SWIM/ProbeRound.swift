import LocalityCore

/// The round-robin probe order (SWIM §4.3 "Round-Robin Probe Target Selection"): members
/// are probed in a random order; when the round ends the list is rebuilt from the live set
/// and reshuffled, and a member that joins mid-round is placed at a random position, so
/// every member is probed within a bounded time.
struct ProbeRound: Sendable {
    private var order: [Int32] = []
    private var position = 0

    /// Reserves room for `count` members (bootstrap: no growth slack).
    mutating func reserveCapacity(_ count: Int) { order.reserveCapacity(count) }

    /// Places a new member at a random position of the current round (swap, O(1)).
    mutating func insert(_ slot: Int32, random: inout SeededRandom) {
        order.append(slot)
        let tail = order.count - 1
        let lower = position
        guard tail > lower else { return }
        let target = lower + Int(random.next() % UInt64(tail - lower + 1))
        order.swapAt(target, tail)
    }

    /// The next live member to probe, or nil when nobody is live.
    mutating func next(table: MemberTable, random: inout SeededRandom) -> Int32? {
        var rebuilt = false
        while true {
            if position >= order.count {
                if rebuilt || table.live.isEmpty { return nil }
                order = table.live
                shuffle(&random)
                position = 0
                rebuilt = true
                continue
            }
            let slot = order[position]
            position += 1
            if table.isLive(slot) { return slot }
        }
    }

    private mutating func shuffle(_ random: inout SeededRandom) {
        guard order.count > 1 else { return }
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            let j = Int(random.next() % UInt64(i + 1))
            order.swapAt(i, j)
        }
    }
}
