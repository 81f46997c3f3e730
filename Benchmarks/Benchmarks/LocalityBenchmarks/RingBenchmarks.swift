import Benchmark
import LocalityCore
import LocalityPlacement

/// `HashRing` lookups: key hash plus binary search over the ring points.
func ringBenchmarks() {
    let members = (0..<32).map { NodeID(name: "node-\($0)", uid: UInt64($0 + 1)) }
    let ring = HashRing(members: members)
    let keys = (0..<1_000).map { "player/\($0)" }

    // `owner(of:)` on 32 members × 256 virtual nodes: xxHash64 of the key, bucket + binary search.
    Benchmark("ring.owner-of-key") { benchmark in
        var index = 0
        for _ in benchmark.scaledIterations {
            blackHole(ring.owner(of: keys[index]))
            index = index == keys.count - 1 ? 0 : index + 1
        }
    }

    // `preferenceList(for:count: 3)`: the first 3 distinct members clockwise (3 arrays).
    Benchmark("ring.preference-list-3") { benchmark in
        var index = 0
        for _ in benchmark.scaledIterations {
            blackHole(ring.preferenceList(for: keys[index], count: 3))
            index = index == keys.count - 1 ? 0 : index + 1
        }
    }
}
