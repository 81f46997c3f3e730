import LocalityCore

/// The piggy-back queue of membership updates (SWIM §4.1; memberlist TransmitLimitedQueue).
///
/// Holds at most one update per member: a newer update about the same member replaces the
/// older one. Updates are handed out fewest-transmissions first and, among equals, the most
/// recently queued or re-queued first; each is retransmitted up to `retransmitLimit` times, then dropped. Selection
/// costs O(updates taken), not O(queue): updates sit in one stack per transmit count.
///
/// Bound: one entry per member id, and members are bounded by `SWIMSettings.maxMembers`;
/// above `capacity` entries the update with the most transmissions is shed.
struct BroadcastQueue: Sendable {
    private struct Entry: Sendable {
        var update: GossipUpdate
        var transmits: Int
        /// 0 for a free entry (generations start at 1).
        var generation: UInt64
    }

    private struct Slot: Sendable {
        var entry: Int32
        var generation: UInt64
    }

    /// Entries by position; `positions` finds a member's entry, `freeEntries` lists unused ones.
    /// The stacks refer to positions, so handing updates out hashes no member id.
    private var entries: [Entry] = []
    private var positions: [NodeID: Int32] = [:]
    private var freeEntries: [Int32] = []
    /// `levels[t]` holds the members whose update was sent `t` times (stale slots are skipped).
    private var levels: [[Slot]] = []
    private var nextGeneration: UInt64 = 0
    private var staleSlots = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int { positions.count }
    var isEmpty: Bool { positions.isEmpty }

    /// The update queued about `id`, if any.
    func pending(about id: NodeID) -> GossipUpdate? { positions[id].map { entries[Int($0)].update } }

    /// Queues `update`, replacing any older update about the same member.
    mutating func enqueue(_ update: GossipUpdate) {
        nextGeneration &+= 1
        let entry = Entry(update: update, transmits: 0, generation: nextGeneration)
        let position: Int32
        if let existing = positions[update.state.id] {
            staleSlots += 1
            position = existing
            entries[Int(position)] = entry
        } else if let free = freeEntries.popLast() {
            position = free
            entries[Int(position)] = entry
            positions[update.state.id] = position
        } else {
            position = Int32(entries.count)
            entries.append(entry)
            positions[update.state.id] = position
        }
        push(Slot(entry: position, generation: nextGeneration), level: 0)
        if positions.count > capacity { shedMostTransmitted() }
        if staleSlots > 2 * positions.count + 64 { compact() }
    }

    /// Removes any queued update about `id`.
    mutating func remove(_ id: NodeID) {
        guard let position = positions.removeValue(forKey: id) else { return }
        release(position)
        staleSlots += 1
    }

    /// Takes updates whose encoded sizes fit in `budget` bytes, fewest-sent and newest first,
    /// counting one transmission each; updates that reach `retransmitLimit` leave the queue.
    /// `skipping` is left in the queue untouched (the caller already carries it).
    mutating func take(budget: Int, retransmitLimit: Int, skipping: NodeID? = nil) -> [GossipUpdate] {
        var taken: [GossipUpdate] = []
        var remaining = budget
        var deferred: [(Slot, Int)] = []
        var level = 0
        scan: while level < levels.count {
            while let slot = levels[level].popLast() {
                let position = Int(slot.entry)
                guard entries[position].generation == slot.generation else {
                    staleSlots -= 1
                    continue
                }
                if let skipping, entries[position].update.state.id == skipping {
                    deferred.append((slot, level))
                    continue
                }
                let size = entries[position].update.encodedSize
                if size > remaining {
                    deferred.append((slot, level))
                    break scan
                }
                remaining -= size
                taken.append(entries[position].update)
                let transmits = entries[position].transmits + 1
                if transmits >= retransmitLimit {
                    positions.removeValue(forKey: entries[position].update.state.id)
                    release(slot.entry)
                } else {
                    entries[position].transmits = transmits
                    deferred.append((slot, transmits))
                }
            }
            level += 1
        }
        // Re-queued in reverse so the newest stays on top of each stack.
        for (slot, level) in deferred.reversed() { push(slot, level: level) }
        return taken
    }

    /// Frees an entry whose member was already removed from `positions`.
    private mutating func release(_ position: Int32) {
        entries[Int(position)].generation = 0
        entries[Int(position)].update.state.metadata = []
        freeEntries.append(position)
    }

    private mutating func push(_ slot: Slot, level: Int) {
        while levels.count <= level { levels.append([]) }
        levels[level].append(slot)
    }

    private mutating func shedMostTransmitted() {
        var level = levels.count - 1
        while level >= 0 {
            while let slot = levels[level].first {
                levels[level].removeFirst()
                if entries[Int(slot.entry)].generation == slot.generation {
                    positions.removeValue(forKey: entries[Int(slot.entry)].update.state.id)
                    release(slot.entry)
                    return
                }
                staleSlots -= 1
            }
            level -= 1
        }
    }

    private mutating func compact() {
        for level in levels.indices {
            levels[level].removeAll { slot in entries[Int(slot.entry)].generation != slot.generation }
        }
        staleSlots = 0
    }
}
