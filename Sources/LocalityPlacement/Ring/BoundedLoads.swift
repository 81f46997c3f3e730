import LocalityCore

/// Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam, SODA 2018).
///
/// §2 of the paper: with m balls in n bins and a balancing parameter c = 1+ε, every bin has
/// capacity ⌈c·m/n⌉; a ball is hashed onto the ring and walks clockwise to the first bin
/// whose load is below its capacity. Here the capacity counts the key being placed
/// (m = current total + 1), so after any sequence of placements max load ≤ ⌈c·m/n⌉:
/// max/mean ≤ c by construction (up to the rounding of the ceiling). The paper bounds the
/// expected number of moves per insertion or deletion by O(1/ε²).
extension HashRing {
    /// Capacity of every member when `totalLoad` keys are already placed and one more is
    /// being placed: ⌈c·(totalLoad+1)/n⌉.
    public static func boundedCapacity(totalLoad: Int, memberCount: Int, factor: Double) -> Int {
        guard memberCount > 0 else { return 0 }
        let ideal = factor * Double(totalLoad + 1) / Double(memberCount)
        return max(1, Int(ideal.rounded(.up)))
    }

    /// The first member along the walk from `hash` whose load is below `capacity`, or nil
    /// when every member is at capacity (impossible when the capacity comes from
    /// `boundedCapacity` and `loads` sums to `totalLoad`). `loads` is indexed like
    /// `members`. The walk visits at most every point once; it does not allocate. With
    /// rendezvous buckets the walk is the bucket's preference order (built only when the
    /// owner is full).
    @inlinable
    public func boundedOwnerIndex(forHash hash: UInt64, loads: UnsafeBufferPointer<Int>, capacity: Int) -> Int? {
        if !table.isEmpty {
            let owner = Int(table[Int(truncatingIfNeeded: hash >> tableShift)])
            if loads[owner] < capacity { return owner }
            return preferenceIndices(forHash: hash, count: members.count).first { loads[$0] < capacity }
        }
        if points.isEmpty { return nil }
        var position = pointIndex(forHash: hash)
        return owners.withUnsafeBufferPointer { ownerBuffer in
            for _ in 0..<ownerBuffer.count {
                let owner = Int(ownerBuffer[position])
                if loads[owner] < capacity { return owner }
                position = position &+ 1 == ownerBuffer.count ? 0 : position &+ 1
            }
            return nil
        }
    }
}

/// Keys assigned to a ring under bounded loads, in the order they arrive: keeps the load
/// of every member (indexed like `ring.members`) and places each new key on the first
/// member along its walk that is below ⌈c·(m+1)/n⌉ (see `HashRing.boundedCapacity`).
public struct BoundedLoadAssignment: Sendable {
    /// The ring keys are placed on.
    public let ring: HashRing
    /// The balancing parameter c = 1+ε (default 1.25, as Vimeo uses).
    public let factor: Double
    /// Keys placed on each member, indexed like `ring.members`.
    public private(set) var loads: [Int]
    /// Keys placed in total.
    public private(set) var totalLoad: Int

    /// An empty assignment on `ring` with c = `factor` (at least 1).
    public init(ring: HashRing, factor: Double = 1.25) {
        self.ring = ring
        self.factor = max(1.0, factor)
        self.loads = [Int](repeating: 0, count: ring.members.count)
        self.totalLoad = 0
    }

    /// Places a key by its hash and returns the member index, or nil on an empty ring.
    public mutating func assign(hash: UInt64) -> Int? {
        let capacity = HashRing.boundedCapacity(totalLoad: totalLoad, memberCount: loads.count, factor: factor)
        let chosen = loads.withUnsafeBufferPointer { ring.boundedOwnerIndex(forHash: hash, loads: $0, capacity: capacity) }
        if let chosen {
            loads[chosen] += 1
            totalLoad += 1
        }
        return chosen
    }

    /// Places `key` and returns its member, or nil on an empty ring.
    public mutating func assign(_ key: String) -> NodeID? {
        assign(hash: HashRing.keyHash(key)).map { ring.members[$0] }
    }

    /// Forgets one key placed on member `index` (a deactivation).
    public mutating func release(memberIndex index: Int) {
        guard loads.indices.contains(index), loads[index] > 0 else { return }
        loads[index] -= 1
        totalLoad -= 1
    }
}
