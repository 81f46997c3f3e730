import LocalityCore

/// A caller's cache of directory lookups (key → activation), as Orleans callers keep.
///
/// Bounded by `capacity` entries: inserting into a full cache evicts one entry chosen by
/// the seeded random stream (O(1), no ordering structure to maintain). Callers drop an
/// entry when the cached node answers `not_owner` or is gone, then ask the directory again.
public struct DirectoryCache: Sendable {
    /// Maximum entries held.
    public let capacity: Int
    private var slots: [String: (address: ActivationAddress, slot: Int)] = [:]
    private var keys: [String] = []
    private var random: SeededRandom

    /// Evictions done because the cache was full.
    public private(set) var evictions = 0

    /// An empty cache of at most `capacity` entries (at least 1), evicting by draws from `random`.
    public init(capacity: Int, random: SeededRandom) {
        self.capacity = max(1, capacity)
        self.random = random
    }

    /// Entries held.
    public var count: Int { keys.count }

    /// The cached activation of `key`.
    public func address(of key: String) -> ActivationAddress? { slots[key]?.address }

    /// Caches `address` for `key`, evicting a random entry when full.
    public mutating func store(_ key: String, _ address: ActivationAddress) {
        if let existing = slots[key] {
            slots[key] = (address, existing.slot)
            return
        }
        if keys.count >= capacity {
            removeSlot(Int(random.next() % UInt64(keys.count)))
            evictions += 1
        }
        slots[key] = (address, keys.count)
        keys.append(key)
    }

    /// Drops `key` (after `not_owner`, or when its node left).
    public mutating func invalidate(_ key: String) {
        guard let existing = slots[key] else { return }
        removeSlot(existing.slot)
    }

    /// Drops every entry pointing at a node not in `ring` (after a membership change).
    public mutating func dropEntries(notOn ring: HashRing) {
        var index = keys.count - 1
        while index >= 0 {
            if let entry = slots[keys[index]], !ring.contains(entry.address.node) { removeSlot(index) }
            index -= 1
        }
    }

    private mutating func removeSlot(_ slot: Int) {
        let key = keys[slot]
        slots[key] = nil
        let last = keys.removeLast()
        if slot < keys.count {
            keys[slot] = last
            if let moved = slots[last] { slots[last] = (moved.address, slot) }
        }
    }
}
