import LocalityCore
import LocalityPlacement
import Testing

@Suite("Placement strategies")
struct PlacementStrategyTests {
    static let members = (0..<6).map { NodeID(name: "node-\($0)", uid: UInt64($0) + 10) }
    static let ring = HashRing(members: members)

    @Test("hash owner placement is the ring owner")
    func hashOwner() {
        let strategy = HashOwnerPlacement()
        for index in 0..<100 {
            #expect(strategy.place("key-\(index)", in: PlacementContext(ring: Self.ring)) == Self.ring.owner(of: "key-\(index)"))
        }
        #expect(strategy.place("key-1", in: PlacementContext(ring: HashRing(members: []))) == nil)
    }

    @Test("bounded-load placement avoids a member above capacity")
    func boundedLoad() {
        let key = "key-3"
        let owner = Self.ring.owner(of: key)!
        var loads: [NodeID: Int] = [:]
        for member in Self.members { loads[member] = 10 }
        loads[owner] = 40
        let strategy = BoundedLoadPlacement(factor: 1.25)
        let chosen = strategy.place(key, in: PlacementContext(ring: Self.ring, loads: loads))
        #expect(chosen != nil && chosen != owner)
        #expect(strategy.place(key, in: PlacementContext(ring: Self.ring)) == owner)
    }

    @Test("two choices takes the less loaded of two distinct draws and replays from its seed")
    func twoChoices() {
        var loads: [NodeID: Int] = [:]
        for (index, member) in Self.members.enumerated() { loads[member] = index * 100 }
        var first = TwoChoicesPlacement(random: SeededRandom(seed: 3))
        var second = TwoChoicesPlacement(random: SeededRandom(seed: 3))
        var picks: [Int] = []
        for index in 0..<200 {
            let context = PlacementContext(ring: Self.ring, loads: loads)
            let a = first.place("key-\(index)", in: context)!
            #expect(a == second.place("key-\(index)", in: context))
            picks.append(Self.members.firstIndex(of: a)!)
        }
        // The most loaded member can never win against a distinct, less loaded draw.
        #expect(!picks.contains(5))
        #expect(Set(picks).count >= 4)
    }

    @Test("two choices balances better than random under sequential arrivals")
    func twoChoicesBalances() {
        let members = (0..<50).map { NodeID(name: "m\($0)", uid: 1) }
        let ring = HashRing(members: members, settings: RingSettings(virtualNodesPerMember: 4))
        func maxLoad<S: PlacementStrategy>(_ strategy: inout S) -> Int {
            var loads: [NodeID: Int] = [:]
            for index in 0..<5000 {
                let node = strategy.place("key-\(index)", in: PlacementContext(ring: ring, loads: loads))!
                loads[node, default: 0] += 1
            }
            return loads.values.max()!
        }
        var two = TwoChoicesPlacement(random: SeededRandom(seed: 11))
        var random = RandomPlacement(random: SeededRandom(seed: 11))
        let twoMax = maxLoad(&two)
        let randomMax = maxLoad(&random)
        #expect(twoMax < randomMax)
        #expect(twoMax <= 100 + 5)
    }

    @Test("prefer-local picks the deciding node when it is live, else the owner")
    func preferLocal() {
        let strategy = PreferLocalPlacement()
        let local = Self.members[2]
        #expect(strategy.place("key-9", in: PlacementContext(ring: Self.ring, local: local)) == local)
        let stranger = NodeID(name: "gone", uid: 1)
        #expect(strategy.place("key-9", in: PlacementContext(ring: Self.ring, local: stranger)) == Self.ring.owner(of: "key-9"))
    }

    @Test("random placement stays on the ring and replays from its seed")
    func randomPlacement() {
        var first = RandomPlacement(random: SeededRandom(seed: 5))
        var second = RandomPlacement(random: SeededRandom(seed: 5))
        var seen = Set<NodeID>()
        for index in 0..<300 {
            let a = first.place("key-\(index)", in: PlacementContext(ring: Self.ring))!
            #expect(a == second.place("key-\(index)", in: PlacementContext(ring: Self.ring)))
            seen.insert(a)
        }
        #expect(seen == Set(Self.members))
    }
}
