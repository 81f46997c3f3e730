import LocalityCore

/// The local view of every other member, stored in dense slots so that the probe order,
/// the live set and timers refer to small integers, and random choice among live members
/// is O(1). Bounded by `capacity`; over it `insert` refuses new members.
///
/// Id → slot lookup is an open-addressing table of slots (linear probing, at most 3/4
/// full, backward-shift deletion) keyed by `slotHash`: 4 bytes a bucket where a
/// `[NodeID: Int32]` entry takes 28, and a cheaper hash than `Hasher` on the gossip path.
struct MemberTable: Sendable {
    /// Slot-indexed records; free slots have `occupied == false`.
    private(set) var records: [MemberRecord] = []
    /// Open-addressing buckets holding slots, `MemberTable.empty` when unused; a power of two long.
    private var buckets: [Int32] = []
    private var indexed = 0
    private var freeSlots: [Int32] = []
    /// Slots of members that are alive or suspect.
    private(set) var live: [Int32] = []
    /// The same slots in the order every member agrees on (`ProbeSchedule` rotates over it).
    private(set) var ring = ProbeRing()
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Reserves room for `count` members in total (bootstrap: no growth slack).
    mutating func reserveCapacity(_ count: Int) {
        let wanted = min(count, capacity)
        records.reserveCapacity(wanted)
        live.reserveCapacity(wanted)
        ring.reserveCapacity(wanted)
        if wanted * 4 > buckets.count * 3 { rehash(toHold: wanted) }
    }

    /// Members held (any status).
    var count: Int { indexed }

    func slot(of id: NodeID) -> Int32? {
        guard !buckets.isEmpty else { return nil }
        let mask = buckets.count - 1
        var bucket = Int(truncatingIfNeeded: Self.slotHash(id)) & mask
        while true {
            let slot = buckets[bucket]
            if slot == Self.empty { return nil }
            if records[Int(slot)].holds(id) { return slot }
            bucket = (bucket + 1) & mask
        }
    }

    subscript(slot: Int32) -> MemberRecord {
        _read { yield records[Int(slot)] }
        _modify { yield &records[Int(slot)] }
    }

    func record(_ id: NodeID) -> MemberRecord? {
        guard let slot = slot(of: id) else { return nil }
        return records[Int(slot)]
    }

    /// True when `slot` holds a member that is alive or suspect.
    func isLive(_ slot: Int32) -> Bool {
        Int(slot) < records.count && records[Int(slot)].liveIndex >= 0
    }

    /// Adds a member that is not held yet. Returns nil when the table is full.
    mutating func insert(_ state: MemberState, now: Timestamp) -> Int32? {
        guard indexed < capacity else { return nil }
        if (indexed + 1) * 4 > buckets.count * 3 { rehash(toHold: indexed + 1) }
        let record = MemberRecord(state: state, changedAt: now)
        let slot: Int32
        if let reused = freeSlots.popLast() {
            slot = reused
            records[Int(slot)] = record
        } else {
            slot = Int32(records.count)
            records.append(record)
        }
        place(slot, hash: Self.slotHash(state.id))
        indexed += 1
        if state.status == .alive || state.status == .suspect { markLive(slot) }
        return slot
    }

    /// Forgets a member.
    mutating func remove(_ slot: Int32) {
        guard records[Int(slot)].occupied else { return }
        if records[Int(slot)].liveIndex >= 0 { markNotLive(slot) }
        unindex(slot)
        records[Int(slot)].liveIndex = MemberRecord.free
        records[Int(slot)].metadata = []
        freeSlots.append(slot)
    }

    mutating func markLive(_ slot: Int32) {
        guard self[slot].liveIndex < 0 else { return }
        self[slot].liveIndex = Int32(live.count)
        live.append(slot)
        ring.insert(slot, keyOf: ringKey)
    }

    mutating func markNotLive(_ slot: Int32) {
        let index = Int(self[slot].liveIndex)
        guard index >= 0 else { return }
        ring.remove(slot, keyOf: ringKey)
        let last = live.removeLast()
        if last != slot {
            live[index] = last
            self[last].liveIndex = Int32(index)
        }
        self[slot].liveIndex = MemberRecord.notLive
    }

    /// Starts a bulk load (bootstrap): members marked live until `endBulkLoad` join the
    /// ring unsorted, and it is sorted once.
    mutating func beginBulkLoad() { ring.beginBulkLoad() }

    mutating func endBulkLoad() { ring.endBulkLoad(key: ringKey) }

    /// Where `id` sits in the probe ring of every member: deterministic, so all agree.
    static func scheduleKey(_ id: NodeID) -> UInt64 { slotHash(id) }

    /// The index in `ring` at which a member with `key` (not in the ring) would sit.
    func ringPosition(of key: UInt64) -> Int { ring.lowerBound(key, keyOf: ringKey) }

    /// The ring key of a slot, read from a snapshot of the records (so the ring can be
    /// changed while it is used).
    private var ringKey: (Int32) -> UInt64 {
        let records = self.records
        return { Self.scheduleKey(records[Int($0)].id) }
    }

    // MARK: - Id index

    private static let empty: Int32 = -1

    /// FNV-1a over the name, seeded with the uid, then murmur3's 64-bit finalizer.
    /// Deterministic (no per-process seed), so lookups cost the same in every run.
    static func slotHash(_ id: NodeID) -> UInt64 {
        var hash = id.uid ^ 0xcbf2_9ce4_8422_2325
        for byte in id.name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        hash ^= hash >> 33
        hash &*= 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        hash &*= 0xc4ce_b9fe_1a85_ec53
        hash ^= hash >> 33
        return hash
    }

    /// Puts `slot` in the first unused bucket from its home bucket on.
    private mutating func place(_ slot: Int32, hash: UInt64) {
        let mask = buckets.count - 1
        var bucket = Int(truncatingIfNeeded: hash) & mask
        while buckets[bucket] != Self.empty { bucket = (bucket + 1) & mask }
        buckets[bucket] = slot
    }

    /// Removes `slot` (still holding its id) from the index; later entries of its probe run
    /// shift back so that lookups need no deletion markers.
    private mutating func unindex(_ slot: Int32) {
        let mask = buckets.count - 1
        var hole = Int(truncatingIfNeeded: Self.slotHash(records[Int(slot)].id)) & mask
        while buckets[hole] != slot {
            guard buckets[hole] != Self.empty else { return }
            hole = (hole + 1) & mask
        }
        var next = hole
        while true {
            next = (next + 1) & mask
            let moved = buckets[next]
            if moved == Self.empty { break }
            let home = Int(truncatingIfNeeded: Self.slotHash(records[Int(moved)].id)) & mask
            // `moved` may fill the hole when the hole lies on its path from home to `next`.
            if (next - home) & mask >= (next - hole) & mask {
                buckets[hole] = moved
                hole = next
            }
        }
        buckets[hole] = Self.empty
        indexed -= 1
    }

    /// Rebuilds the index with room for `count` members at most 3/4 full.
    private mutating func rehash(toHold count: Int) {
        var size = max(8, buckets.count)
        while count * 4 > size * 3 { size *= 2 }
        buckets = Array(repeating: Self.empty, count: size)
        for slot in records.indices where records[slot].occupied {
            place(Int32(slot), hash: Self.slotHash(records[slot].id))
        }
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

    /// Up to `count` distinct random members for a gossip round (memberlist gossip /
    /// kRandomNodes): alive or suspect, or dead since `deadSince` or later (memberlist
    /// GossipToTheDeadTime, so a member wrongly declared dead hears of it and refutes);
    /// never left. Rejection sampling over the slots with a bounded number of draws, topped
    /// up from the live members when the slots are mostly free or long dead.
    func randomGossipTargets(_ count: Int, deadSince: Timestamp, random: inout SeededRandom) -> [Int32] {
        guard count > 0, !records.isEmpty else { return [] }
        var chosen: [Int32] = []
        chosen.reserveCapacity(count)
        var draws = 0
        while chosen.count < count, draws < 3 * count + 3 {
            draws += 1
            let slot = Int32(random.next() % UInt64(records.count))
            // Field reads only: copying a record would retain its strings.
            let liveIndex = records[Int(slot)].liveIndex
            let eligible =
                liveIndex >= 0
                || (liveIndex == MemberRecord.notLive && records[Int(slot)].status == .dead
                    && records[Int(slot)].changedAt >= deadSince)
            guard eligible, !chosen.contains(slot) else { continue }
            chosen.append(slot)
        }
        if chosen.count < count {
            for slot in randomLive(count, excluding: nil, random: &random) where !chosen.contains(slot) {
                guard chosen.count < count else { break }
                chosen.append(slot)
            }
        }
        return chosen
    }
}
