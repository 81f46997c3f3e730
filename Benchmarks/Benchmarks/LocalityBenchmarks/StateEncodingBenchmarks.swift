import Benchmark
import LocalityActors

/// The state a `PersistentState` stores, as in `PlayerStats.Totals`.
struct BenchTotals: Codable, Equatable, Sendable {
    var matches = 120
    var wins = 64
    var points = 3_456
    var bestMatch = 71
    var recent: [Int] = [12, 40, 3, 71, 18, 22, 9, 30, 44, 5]
    var name = "player-42"
}

/// `BinaryEncoder`/`BinaryDecoder` on a small actor state.
func stateEncodingBenchmarks() {
    let totals = BenchTotals()

    // `BinaryEncoder().encode` of a `PlayerStats.Totals`-like value.
    Benchmark("state.encode") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try BinaryEncoder().encode(totals))
        }
    }

    // `BinaryDecoder().decode` of those bytes.
    Benchmark("state.decode") { benchmark in
        let bytes = try BinaryEncoder().encode(totals)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try BinaryDecoder().decode(BenchTotals.self, from: bytes))
        }
    }
}
