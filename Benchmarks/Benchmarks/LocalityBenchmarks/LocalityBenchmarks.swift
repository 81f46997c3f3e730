import Benchmark

/// Every suite; `swift package benchmark --filter 'ring.*'` runs one.
///
/// The sample size, metrics and the tolerances `scripts/bench-check` applies against
/// `Thresholds/` are in `BenchmarkConfigurations.swift`: malloc counts exactly (they do
/// not depend on the machine or its load), wall clock within 2.5× (it does).
///
/// Names: no spaces and no `/`. Benchmark 1.38.1 writes a threshold file with those
/// replaced by `_` but looks it up under the raw name, so such a benchmark would never
/// be checked (`scripts/bench-check` fails when a benchmark has no threshold file).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .locality
    ringBenchmarks()
    frameBenchmarks()
    stateEncodingBenchmarks()
    actorBenchmarks()
    gatewayBenchmarks()
}
