import LocalityCore

/// A consistent-hash ring over a list of members (Karger et al., STOC 1997), with
/// weight-aware virtual nodes, an O(log V) allocation-free lookup, preference lists for
/// fallbacks and a checksum so that nodes can compare their views (as Ringpop does).
///
/// Layout: `points` is one contiguous sorted array of `UInt64` ring positions; `owners[i]`
/// is the index into `members` of the member that placed `points[i]`. A key is hashed
/// with xxHash64 (seed 0) and owned by the first point at or after its hash, wrapping
/// around. Points are xxHash64 of `"<name>#<i>"`: they depend on the member's name only,
/// so a node restarted under the same name (new `uid`) gets its old ranges back, and
/// every node computes the same ring from the same member list. Swift's `Hasher` is
/// never used. Ties between equal points go to the member that sorts first.
public struct HashRing: Sendable, Equatable {
    /// Members in ascending `NodeID` order; `owners` index into this array.
    public let members: [NodeID]
    /// Virtual nodes placed by each member (with rendezvous buckets: buckets it owns),
    /// parallel to `members`.
    public let virtualNodeCounts: [Int]
    /// The mapping in use.
    public let algorithm: RingAlgorithm
    /// Rendezvous buckets: the owner (index into `members`) of each bucket; empty for
    /// virtual nodes.
    @usableFromInline let table: ContiguousArray<UInt32>
    /// Rendezvous buckets: a hash's bucket is `hash >> tableShift`.
    @usableFromInline let tableShift: UInt64
    /// Rendezvous buckets: members' seeds and weights, parallel to `members` (preference lists).
    let seeds: [UInt64]
    let weights: [Double]
    /// Sorted ring positions.
    @usableFromInline let points: ContiguousArray<UInt64>
    /// Member index (into `members`) of each point, parallel to `points`.
    @usableFromInline let owners: ContiguousArray<UInt32>
    /// Bucket index over the top `64 - bucketShift` bits of a hash: `bucketStarts[b]` is the
    /// first point whose top bits are ≥ b (2^k + 1 entries, k ≈ log2(points)). A lookup scans
    /// only its bucket (about one point) instead of binary-searching the whole array.
    @usableFromInline let bucketStarts: ContiguousArray<UInt32>
    @usableFromInline let bucketShift: UInt64

    /// Builds the ring.
    /// - Parameters:
    ///   - members: the live members; duplicates are ignored, order does not matter.
    ///   - settings: virtual nodes per member and weights.
    public init(members: [NodeID], settings: RingSettings = RingSettings()) {
        let sorted = Array(Set(members)).sorted()
        self.algorithm = settings.algorithm
        if settings.algorithm == .rendezvousBuckets {
            let seeds = sorted.map { RendezvousBuckets.seed(name: $0.name) }
            let weights = sorted.map { settings.weight(of: $0) }
            let table = RendezvousBuckets.table(seeds: seeds, weights: weights, bits: settings.bucketBits)
            var counts = [Int](repeating: 0, count: sorted.count)
            for owner in table { counts[Int(owner)] += 1 }
            self.members = sorted
            self.virtualNodeCounts = counts
            self.table = table
            self.tableShift = UInt64(64 - settings.bucketBits)
            self.seeds = seeds
            self.weights = weights
            self.points = []
            self.owners = []
            self.bucketStarts = [0, 0]
            self.bucketShift = 63
            return
        }
        self.table = []
        self.tableShift = 63
        self.seeds = []
        self.weights = []
        var counts: [Int] = []
        counts.reserveCapacity(sorted.count)
        var pairs: [(point: UInt64, owner: UInt32)] = []
        var label: [UInt8] = []
        for (index, member) in sorted.enumerated() {
            let count = settings.virtualNodes(for: member)
            counts.append(count)
            pairs.reserveCapacity(pairs.count + count)
            label.removeAll(keepingCapacity: true)
            label.append(contentsOf: member.name.utf8)
            label.append(UInt8(ascii: "#"))
            let prefix = label.count
            for replica in 0..<count {
                label.removeSubrange(prefix...)
                HashRing.appendDecimal(replica, to: &label)
                pairs.append((label.withUnsafeBytes { StableHash.xxHash64($0) }, UInt32(index)))
            }
        }
        pairs.sort { $0.point != $1.point ? $0.point < $1.point : $0.owner < $1.owner }
        self.members = sorted
        self.virtualNodeCounts = counts
        self.points = ContiguousArray(pairs.map(\.point))
        self.owners = ContiguousArray(pairs.map(\.owner))
        var bits: UInt64 = 1
        while bits < 20, (1 << bits) < pairs.count { bits += 1 }
        self.bucketShift = 64 - bits
        var starts = ContiguousArray<UInt32>(repeating: 0, count: (1 << Int(bits)) + 1)
        var position = 0
        for bucket in 0..<starts.count {
            while position < pairs.count, pairs[position].point >> (64 - bits) < UInt64(bucket) { position += 1 }
            starts[bucket] = UInt32(position)
        }
        self.bucketStarts = starts
    }

    /// The ring position of a member's `replica`-th virtual node: xxHash64 of `"<name>#<replica>"`.
    public static func pointHash(name: String, replica: Int) -> UInt64 {
        var label = Array(name.utf8)
        label.append(UInt8(ascii: "#"))
        appendDecimal(replica, to: &label)
        return label.withUnsafeBytes { StableHash.xxHash64($0) }
    }

    /// Appends the decimal digits of a non-negative number (no allocation beyond `bytes`).
    static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
        let start = bytes.count
        var rest = max(0, value)
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        bytes[start...].reverse()
    }

    /// The ring position of a key: xxHash64 (seed 0) of its UTF-8 bytes.
    @inlinable
    public static func keyHash(_ key: String) -> UInt64 {
        StableHash.xxHash64(key)
    }

    /// True when the ring has no members.
    public var isEmpty: Bool { members.isEmpty }

    /// Number of virtual nodes on the ring.
    public var pointCount: Int { points.count }

    /// Index into `points` of the first point at or after `hash` (wrapping to 0).
    /// The bucket of the hash's top bits bounds the search to the points sharing them (all
    /// later buckets hold larger points); within it a branch-light binary search. No
    /// allocation; O(log V) worst case, about one comparison on average.
    @inlinable
    func pointIndex(forHash hash: UInt64) -> Int {
        let bucket = Int(truncatingIfNeeded: hash >> bucketShift)
        let found: Int = bucketStarts.withUnsafeBufferPointer { starts in
            var low = Int(starts[bucket])
            let high = Int(starts[bucket &+ 1])
            return points.withUnsafeBufferPointer { buffer in
                var length = high &- low
                while length > 0 {
                    let half = length >> 1
                    if buffer[low &+ half] < hash {
                        low = low &+ half &+ 1
                        length = length &- half &- 1
                    } else {
                        length = half
                    }
                }
                return low
            }
        }
        return found == points.count ? 0 : found
    }

    /// Index into `members` of the owner of a hash, or nil for an empty ring.
    @inlinable
    public func ownerIndex(forHash hash: UInt64) -> Int? {
        if !table.isEmpty { return Int(table[Int(truncatingIfNeeded: hash >> tableShift)]) }
        if points.isEmpty { return nil }
        return Int(owners[pointIndex(forHash: hash)])
    }

    /// Index into `members` of the owner of `key`, or nil for an empty ring.
    @inlinable
    public func ownerIndex(of key: String) -> Int? {
        ownerIndex(forHash: HashRing.keyHash(key))
    }

    /// The member that owns `key`, or nil for an empty ring.
    @inlinable
    public func owner(of key: String) -> NodeID? {
        ownerIndex(of: key).map { members[$0] }
    }

    /// Index of `member` in `members`, or nil when it is not on the ring.
    public func index(of member: NodeID) -> Int? {
        var low = 0
        var high = members.count
        while low < high {
            let middle = (low + high) / 2
            if members[middle] < member { low = middle + 1 } else { high = middle }
        }
        return low < members.count && members[low] == member ? low : nil
    }

    /// True when `member` is on the ring.
    public func contains(_ member: NodeID) -> Bool { index(of: member) != nil }

    /// The preference list of `key`: the first `count` distinct members met walking the
    /// ring clockwise from the key's position (the owner first, then its fallbacks), as
    /// in Dynamo's preference list. Returns fewer when the ring has fewer members.
    public func preferenceList(for key: String, count: Int) -> [NodeID] {
        preferenceIndices(forHash: HashRing.keyHash(key), count: count).map { members[$0] }
    }

    /// Member indices of the preference list for a hash (see `preferenceList(for:count:)`).
    public func preferenceIndices(forHash hash: UInt64, count: Int) -> [Int] {
        let wanted = min(max(count, 0), members.count)
        if wanted == 0 { return [] }
        if !table.isEmpty {
            return RendezvousBuckets.ranked(bucket: Int(truncatingIfNeeded: hash >> tableShift), seeds: seeds, weights: weights, count: wanted)
        }
        var result: [Int] = []
        result.reserveCapacity(wanted)
        var seen = [Bool](repeating: false, count: members.count)
        var position = pointIndex(forHash: hash)
        for _ in 0..<points.count {
            let owner = Int(owners[position])
            if !seen[owner] {
                seen[owner] = true
                result.append(owner)
                if result.count == wanted { break }
            }
            position = position + 1 == points.count ? 0 : position + 1
        }
        return result
    }

    /// A checksum of the ring view: xxHash64 of the sorted members (`name#uid`) and their
    /// virtual node counts, joined by `;`. Two nodes with the same checksum compute the
    /// same owner for every key (Ringpop compares membership checksums the same way).
    public var checksum: UInt64 {
        // Rendezvous buckets name the algorithm and table size first (virtual-node views
        // keep their old checksums); counts are buckets there.
        var text = table.isEmpty ? "" : "buckets/\(64 - tableShift):"
        for (member, count) in zip(members, virtualNodeCounts) {
            text += "\(member.name)#\(String(member.uid, radix: 16))*\(count);"
        }
        return StableHash.xxHash64(text)
    }

    /// Approximate heap bytes held by the ring: the point and owner arrays plus the member
    /// list (identities and names).
    public var memoryBytes: Int {
        var bytes = points.capacity * MemoryLayout<UInt64>.stride
        bytes += owners.capacity * MemoryLayout<UInt32>.stride
        bytes += bucketStarts.capacity * MemoryLayout<UInt32>.stride
        bytes += table.capacity * MemoryLayout<UInt32>.stride
        bytes += (seeds.capacity + weights.capacity) * 8
        bytes += members.capacity * MemoryLayout<NodeID>.stride
        bytes += virtualNodeCounts.capacity * MemoryLayout<Int>.stride
        for member in members where member.name.utf8.count > 15 {
            bytes += member.name.utf8.count
        }
        return bytes
    }
}
