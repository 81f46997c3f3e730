import LocalityCore

/// One member in the local view.
struct MemberRecord: Sendable {
    var state: MemberState
    /// When `state.status` last changed (reaping counts from here).
    var changedAt: Timestamp
    /// Position in `MemberTable.live`, or -1 when dead or left.
    var liveIndex: Int32
}

/// The local view of every other member, stored in dense slots so that the probe order,
/// the live set and timers refer to small integers, and random choice among live members
/// is O(1). Bounded by `capacity`; over it `insert` refuses new members.
struct MemberTable: Sendable {
    private(set) var records: [MemberRecord?] = []
    private var slotOf: [NodeID: Int32] = [:]
    private var freeSlots: [Int32] = []
    /// Slots of members that are alive or suspect.
    private(set) var live: [Int32] = []
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Members held (any status).
    var count: Int { slotOf.count }

    func slot(of id: NodeID) -> Int32? { slotOf[id] }

    subscript(slot: Int32) -> MemberRecord {
        get { records[Int(slot)]! }
        set { records[Int(slot)] = newValue }
    }

    func record(_ id: NodeID) -> MemberRecord? {
        guard let slot = slotOf[id] else { return nil }
        return records[Int(slot)]
    }

    /// Adds a member. Returns nil when the table is full.
    mutating func insert(_ state: MemberState, now: Timestamp) -> Int32? {
        guard slotOf.count < capacity else { return nil }
        let record = MemberRecord(state: state, changedAt: now, liveIndex: -1)
        let slot: Int32
        if let reused = freeSlots.popLast() {
            slot = reused
            records[Int(slot)] = record
        } else {
            slot = Int32(records.count)
            records.append(record)
        }
        slotOf[state.id] = slot
        if state.status == .alive || state.status == .suspect { markLive(slot) }
        return slot
    }

    /// Forgets a member.
    mutating func remove(_ slot: Int32) {
        guard let record = records[Int(slot)] else { return }
        if record.liveIndex >= 0 { markNotLive(slot) }
        slotOf.removeValue(forKey: record.state.id)
        records[Int(slot)] = nil
        freeSlots.append(slot)
    }

    mutating func markLive(_ slot: Int32) {
        guard self[slot].liveIndex < 0 else { return }
        self[slot].liveIndex = Int32(live.count)
        live.append(slot)
    }

    mutating func markNotLive(_ slot: Int32) {
        let index = Int(self[slot].liveIndex)
        guard index >= 0 else { return }
        let last = live.removeLast()
        if last != slot {
            live[index] = last
            self[last].liveIndex = Int32(index)
        }
        self[slot].liveIndex = -1
    }

    /// Up to `count` distinct live members chosen uniformly at random, excluding `excluded`.
    /// Bounded work: at most 3 × count + 3 draws.
    func randomLive(_ count: Int, excluding excluded: Int32?, random: inout SeededRandom) -> [Int32] {
        guard count > 0, !live.isEmpty else { return [] }
        let available = live.count - (excluded.map { self[$0].liveIndex >= 0 ? 1 : 0 } ?? 0)
        let wanted = min(count, available)
        var chosen: [Int32] = []
        chosen.reserveCapacity(wanted)
        var draws = 0
        while chosen.count < wanted, draws < 3 * count + 3 {
            draws += 1
            let slot = live[Int(random.next() % UInt64(live.count))]
            if slot == excluded || chosen.contains(slot) { continue }
            chosen.append(slot)
        }
        return chosen
    }
}
