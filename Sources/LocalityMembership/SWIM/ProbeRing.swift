import LocalityCore

/// The live members (alive or suspect) in an order every member agrees on: ascending
/// `MemberTable.scheduleKey` of their id. `ProbeSchedule` rotates over it.
///
/// Holds slots only (4 bytes a member, as many members hold one ring each); keys are
/// recomputed from the table for the O(log N) binary searches of an insert or a removal.
/// A bulk load appends unsorted and sorts once at the end.
struct ProbeRing: Sendable {
    private(set) var slots: [Int32] = []
    private var bulk: [(key: UInt64, slot: Int32)]?

    var count: Int { slots.count }

    subscript(index: Int) -> Int32 { slots[index] }

    mutating func reserveCapacity(_ count: Int) { slots.reserveCapacity(count) }

    /// From now until `endBulkLoad`, inserts append without ordering.
    mutating func beginBulkLoad() {
        guard bulk == nil else { return }
        var pending: [(key: UInt64, slot: Int32)] = []
        pending.reserveCapacity(slots.count)
        bulk = pending
    }

    /// Merges the bulk-loaded slots and sorts the ring (linear when they came in order).
    mutating func endBulkLoad(key: (Int32) -> UInt64) {
        guard var pending = bulk else { return }
        bulk = nil
        for slot in slots { pending.append((key(slot), slot)) }
        pending.sort { ($0.key, $0.slot) < ($1.key, $1.slot) }
        slots = pending.map(\.slot)
    }

    mutating func insert(_ slot: Int32, keyOf: (Int32) -> UInt64) {
        if bulk != nil {
            bulk!.append((keyOf(slot), slot))
            return
        }
        slots.insert(slot, at: lowerBound(keyOf(slot), slot: slot, keyOf: keyOf))
    }

    mutating func remove(_ slot: Int32, keyOf: (Int32) -> UInt64) {
        if bulk != nil, let index = bulk!.firstIndex(where: { $0.slot == slot }) {
            bulk!.remove(at: index)
            return
        }
        let index = lowerBound(keyOf(slot), slot: slot, keyOf: keyOf)
        if index < slots.count, slots[index] == slot {
            slots.remove(at: index)
        } else if let index = slots.firstIndex(of: slot) {
            slots.remove(at: index)  // Not where its key says: keep the ring consistent anyway.
        }
    }

    /// The first index whose (key, slot) is not below the given one.
    func lowerBound(_ key: UInt64, slot: Int32 = .min, keyOf: (Int32) -> UInt64) -> Int {
        var low = 0
        var high = slots.count
        while low < high {
            let mid = (low + high) / 2
            let midSlot = slots[mid]
            if (keyOf(midSlot), midSlot) < (key, slot) { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
