import LocalityCore

/// The piggy-back queue of membership updates (SWIM §4.1; memberlist TransmitLimitedQueue).
///
/// Holds at most one update per member: a newer update about the same member replaces the
/// older one. Updates are handed out fewest-transmissions first and, among equals, newest
/// first; each is retransmitted up to `retransmitLimit` times, then dropped. Selection
/// costs O(updates taken), not O(queue): updates sit in one stack per transmit count.
///
/// Bound: one entry per member id, and members are bounded by `SWIMSettings.maxMembers`;
/// above `capacity` entries the update with the most transmissions is shed.
struct BroadcastQueue: Sendable {
    private struct Entry: Sendable {
        var update: GossipUpdate
        var transmits: Int
        var generation: UInt64
    }

    private struct Slot: Sendable {
        var id: NodeID
        var generation: UInt64
    }

    private var entries: [NodeID: Entry] = [:]
    /// `levels[t]` holds the members whose update was sent `t` times (stale slots are skipped).
    private var levels: [[Slot]] = []
    private var nextGeneration: UInt64 = 0
    private var staleSlots = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    /// The update queued about `id`, if any.
    func pending(about id: NodeID) -> GossipUpdate? { entries[id]?.update }

    /// Queues `update`, replacing any older update about the same member.
    mutating func enqueue(_ update: GossipUpdate) {
        if entries[update.state.id] != nil { staleSlots += 1 }
        nextGeneration &+= 1
        entries[update.state.id] = Entry(update: update, transmits: 0, generation: nextGeneration)
        push(Slot(id: update.state.id, generation: nextGeneration), level: 0)
        if entries.count > capacity { shedMostTransmitted() }
        if staleSlots > 2 * entries.count + 64 { compact() }
    }

    /// Removes any queued update about `id`.
    mutating func remove(_ id: NodeID) {
        if entries.removeValue(forKey: id) != nil { staleSlots += 1 }
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
                guard let entry = entries[slot.id], entry.generation == slot.generation else {
                    staleSlots -= 1
                    continue
                }
                if slot.id == skipping {
                    deferred.append((slot, level))
                    continue
                }
                let size = entry.update.encodedSize
                if size > remaining {
                    deferred.append((slot, level))
                    break scan
                }
                remaining -= size
                taken.append(entry.update)
                let transmits = entry.transmits + 1
                if transmits >= retransmitLimit {
                    entries.removeValue(forKey: slot.id)
                } else {
                    entries[slot.id]?.transmits = transmits
                    deferred.append((slot, transmits))
                }
            }
            level += 1
        }
        // Re-queued in reverse so the newest stays on top of each stack.
        for (slot, level) in deferred.reversed() { push(slot, level: level) }
        return taken
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
                if let entry = entries[slot.id], entry.generation == slot.generation {
                    entries.removeValue(forKey: slot.id)
                    return
                }
                staleSlots -= 1
            }
            level -= 1
        }
    }

    private mutating func compact() {
        for level in levels.indices {
            levels[level].removeAll { slot in entries[slot.id]?.generation != slot.generation }
        }
        staleSlots = 0
    }
}
