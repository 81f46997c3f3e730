import LocalityCore
import LocalityPlacement
import Testing

@Suite("Ring owners are stable across runs and nodes")
struct GoldenOwnerTests {
    static let members = (0..<5).map { NodeID(name: "node-\($0)", uid: UInt64($0) + 1) }

    // Golden values: computed once from xxHash64 (seed 0) and pinned. A change here means
    // every deployed node would disagree with the new binary about where keys live.
    @Test("pinned owners for node-0…node-4 at 256 virtual nodes", arguments: [
        ("key-0", "node-4"),
        ("key-1", "node-3"),
        ("key-2", "node-3"),
        ("key-3", "node-1"),
        ("key-42", "node-1"),
        ("user:alice", "node-2"),
        ("", "node-4"),
    ])
    func pinnedOwner(key: String, owner: String) {
        let ring = HashRing(members: Self.members)
        #expect(ring.owner(of: key)?.name == owner)
    }

    @Test("pinned key hash, point hash and ring checksum")
    func pinnedHashes() {
        #expect(HashRing.keyHash("key-0") == 0x12da_f067_15ff_a373)
        #expect(HashRing.keyHash("") == 0xef46_db37_51d8_e999)
        #expect(HashRing.pointHash(name: "node-0", replica: 0) == StableHash.xxHash64("node-0#0"))
        #expect(HashRing.pointHash(name: "node-0", replica: 0) == 0x15f0_48fb_2377_966c)
        #expect(HashRing(members: Self.members).checksum == 0xc5fa_1a05_7428_906f)
    }

    @Test("every node builds the same ring whatever order it learned the members in")
    func orderIndependent() {
        var random = SeededRandom(seed: 7)
        let reference = HashRing(members: Self.members)
        for _ in 0..<10 {
            let shuffled = Self.members.shuffled(using: &random)
            let ring = HashRing(members: shuffled + [shuffled[0]])
            #expect(ring == reference)
            #expect(ring.checksum == reference.checksum)
            for index in 0..<1000 {
                #expect(ring.owner(of: "key-\(index)") == reference.owner(of: "key-\(index)"))
            }
        }
    }

    @Test("the checksum tells views apart: a restarted member (new uid) changes it")
    func checksumDistinguishesViews() {
        let ring = HashRing(members: Self.members)
        var restarted = Self.members
        restarted[2] = NodeID(name: "node-2", uid: 99)
        let other = HashRing(members: restarted)
        #expect(other.checksum != ring.checksum)
        // Points depend on the name only: the restarted member gets its ranges back.
        for index in 0..<1000 {
            #expect(other.owner(of: "key-\(index)")?.name == ring.owner(of: "key-\(index)")?.name)
        }
    }
}
