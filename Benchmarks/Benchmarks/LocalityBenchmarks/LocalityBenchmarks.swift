import Benchmark

/// Every suite; `swift package benchmark --filter 'ring.*'` runs one.
///
/// Thresholds (checked by `scripts/bench-check` against `Thresholds/`): allocation
/// counts are exact on any machine, so they are strict; times vary with the machine and
/// its load (a shared 2-core box varies by 2–3×), so they only catch large regressions.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000,
        thresholds: [
            .mallocCountTotal: .init(absolute: [.p50: 0, .p90: 0]),
            .wallClock: .init(relative: [.p50: 150]),
            .cpuTotal: .init(relative: [.p50: 150]),
        ]
    )
    ringBenchmarks()
    frameBenchmarks()
    stateEncodingBenchmarks()
    actorBenchmarks()
}
