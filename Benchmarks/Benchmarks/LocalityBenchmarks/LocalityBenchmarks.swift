import Benchmark

/// Every suite; `swift package benchmark --filter 'ring.*'` runs one.
///
/// The sample size, metrics and the tolerances `scripts/bench-check` applies against
/// `Thresholds/` are in `BenchmarkConfigurations.swift`: malloc counts exactly (they do
/// not depend on the machine or its load), wall clock within 2.5× (it does).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .locality
    ringBenchmarks()
    frameBenchmarks()
    stateEncodingBenchmarks()
    actorBenchmarks()
}
