import LocalityCore
import LocalityPlacement
import Testing

@Suite("HashRing lookups, preference lists, weights and movement")
struct HashRingTests {
    static func nodes(_ count: Int, prefix: String = "node-") -> [NodeID] {
        (0..<count).map { NodeID(name: "\(prefix)\($0)", uid: UInt64($0) &* 0x9E37 &+ 1) }
    }

    @Test("an empty ring owns nothing")
    func emptyRing() {
        let ring = HashRing(members: [])
        #expect(ring.owner(of: "key-1") == nil)
        #expect(ring.preferenceList(for: "key-1", count: 3).isEmpty)
        #expect(ring.isEmpty)
    }

    @Test("lookups match a naive scan of the sorted points", arguments: [1, 2, 5, 40])
    func matchesNaiveScan(memberCount: Int) {
        let members = Self.nodes(memberCount)
        let settings = RingSettings(virtualNodesPerMember: 50)
        let ring = HashRing(members: members, settings: settings)
        // Reference: every point, sorted by (point, member order); owner = first point ≥ hash.
        var points: [(UInt64, Int)] = []
        let sorted = members.sorted()
        for (index, member) in sorted.enumerated() {
            for replica in 0..<50 { points.append((HashRing.pointHash(name: member.name, replica: replica), index)) }
        }
        points.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        var random = SeededRandom(seed: UInt64(memberCount))
        var probes: [UInt64] = [0, .max, points[0].0, points[points.count - 1].0, points[points.count / 2].0 &+ 1]
        for _ in 0..<3000 { probes.append(random.next()) }
        for hash in probes {
            let expected = points.first { $0.0 >= hash }?.1 ?? points[0].1
            #expect(ring.ownerIndex(forHash: hash) == expected)
            #expect(sorted[expected] == ring.members[expected])
        }
    }

    @Test("a ring has V points per member of weight 1")
    func pointCount() {
        let ring = HashRing(members: Self.nodes(7), settings: RingSettings(virtualNodesPerMember: 100))
        #expect(ring.pointCount == 700)
        #expect(ring.memoryBytes >= 700 * 12)
    }

    @Test("the preference list starts with the owner and holds distinct members")
    func preferenceList() {
        let ring = HashRing(members: Self.nodes(6))
        for index in 0..<500 {
            let key = "key-\(index)"
            let list = ring.preferenceList(for: key, count: 3)
            #expect(list.count == 3)
            #expect(list.first == ring.owner(of: key))
            #expect(Set(list).count == 3)
        }
        #expect(ring.preferenceList(for: "key-1", count: 10).count == 6)
    }

    @Test("a member of weight 2 receives about twice the keys")
    func weights() {
        let members = Self.nodes(4)
        let ring = HashRing(members: members, settings: RingSettings(virtualNodesPerMember: 256, weights: ["node-0": 2.0]))
        var counts = [Int](repeating: 0, count: 4)
        for index in 0..<40_000 { counts[ring.ownerIndex(of: "key-\(index)")!] += 1 }
        let others = Double(counts[1] + counts[2] + counts[3]) / 3
        let ratio = Double(counts[0]) / others
        #expect(ratio > 1.7 && ratio < 2.3, "weight-2 share ratio \(ratio)")
    }

    @Test("adding a member only moves keys to it", arguments: [UInt64(1), 2, 3])
    func addOnlyMovesToNewMember(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let count = 2 + Int(random.next() % 12)
        let members = Self.nodes(count)
        let joiner = NodeID(name: "joiner-\(random.next() % 1000)", uid: random.next())
        let before = HashRing(members: members, settings: RingSettings(virtualNodesPerMember: 64))
        let after = HashRing(members: members + [joiner], settings: RingSettings(virtualNodesPerMember: 64))
        var moved = 0
        for index in 0..<20_000 {
            let key = "k\(random.next())-\(index)"
            let old = before.owner(of: key)
            let new = after.owner(of: key)
            if old != new {
                moved += 1
                #expect(new == joiner)
            }
        }
        #expect(moved > 0)
    }

    @Test("removing a member only moves its keys", arguments: [UInt64(4), 5, 6])
    func removeOnlyMovesItsKeys(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let members = Self.nodes(3 + Int(random.next() % 12))
        let leaver = members[Int(random.next() % UInt64(members.count))]
        let before = HashRing(members: members, settings: RingSettings(virtualNodesPerMember: 64))
        let after = HashRing(members: members.filter { $0 != leaver }, settings: RingSettings(virtualNodesPerMember: 64))
        var moved = 0
        for index in 0..<20_000 {
            let key = "k\(random.next())-\(index)"
            let old = before.owner(of: key)
            if old != after.owner(of: key) {
                moved += 1
                #expect(old == leaver)
            } else {
                #expect(old != leaver)
            }
        }
        #expect(moved > 0)
    }

    @Test("bounded loads keep max/mean at or below c", arguments: [1.25, 1.05, 1.01])
    func boundedLoads(factor: Double) {
        let ring = HashRing(members: Self.nodes(10), settings: RingSettings(virtualNodesPerMember: 16))
        var assignment = BoundedLoadAssignment(ring: ring, factor: factor)
        let keys = 50_000
        for index in 0..<keys { #expect(assignment.assign("key-\(index)") != nil) }
        let mean = Double(keys) / 10
        let maxLoad = assignment.loads.max()!
        #expect(Double(maxLoad) <= (factor * mean).rounded(.up))
        #expect(assignment.totalLoad == keys)
    }

    @Test("bounded loads with room to spare give the plain owner")
    func boundedMatchesOwnerWhenUnderCapacity() {
        let ring = HashRing(members: Self.nodes(5))
        var assignment = BoundedLoadAssignment(ring: ring, factor: 1.25)
        #expect(assignment.assign("key-1") == ring.owner(of: "key-1"))
        assignment.release(memberIndex: ring.index(of: ring.owner(of: "key-1")!)!)
        #expect(assignment.totalLoad == 0)
    }

    @Test("bounded loads skip a full member and walk on")
    func boundedSkipsFullMember() {
        let ring = HashRing(members: Self.nodes(4))
        let key = "key-7"
        let owner = ring.ownerIndex(of: key)!
        var loads = [Int](repeating: 0, count: 4)
        loads[owner] = 5
        let chosen = loads.withUnsafeBufferPointer { ring.boundedOwnerIndex(forHash: HashRing.keyHash(key), loads: $0, capacity: 5) }
        #expect(chosen != nil && chosen != owner)
        #expect(chosen == ring.preferenceIndices(forHash: HashRing.keyHash(key), count: 2)[1])
    }
}
