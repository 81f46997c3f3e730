import Benchmark
import LocalityCore
import LocalityPlacement

/// `HashRing` lookups: key hash plus binary search over the ring points.
func ringBenchmarks() {
    let members = (0..<32).map { NodeID(name: "node-\($0)", uid: UInt64($0 + 1)) }
    let ring = HashRing(members: members)
    let keys = (0..<1_000).map { "player/\($0)" }

    Benchmark("ring.owner(of:) 32 members x 256 points") { benchmark in
        var index = 0
        for _ in benchmark.scaledIterations {
            blackHole(ring.owner(of: keys[index]))
            index = index == keys.count - 1 ? 0 : index + 1
        }
    }

    Benchmark("ring.preferenceList(for:count: 3)") { benchmark in
        var index = 0
        for _ in benchmark.scaledIterations {
            blackHole(ring.preferenceList(for: keys[index], count: 3))
            index = index == keys.count - 1 ? 0 : index + 1
        }
    }
}
