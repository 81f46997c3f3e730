import Benchmark

/// The sample size, metrics and tolerances of every suite (docs/benchmarks.md).
///
/// Sample: 1,000 operations (`scalingFactor: .kilo`; results are per operation), so the
/// harness's own cost per sample (about 2 µs and 2 allocations for an async closure)
/// vanishes, up to 1,000 samples or 2 s per benchmark.
///
/// Metrics: only those that measure something on Linux with benchmark 1.38.1 and Swift
/// 6.3: wall clock, and malloc counts through the malloc interposer (the
/// `MallocInterposer` trait). Not measured: CPU time (on Linux it comes from /proc in
/// 10 ms scheduler ticks, longer than most samples: it reads 0 or 10 ms), instructions
/// (they need hardware perf counters; `perf_event_open` fails with ENOENT on this VM)
/// and ARC counts (the Linux runtime interposer is not in the package mirror).
///
/// Tolerances: `Thresholds/` holds each metric's p90 per sample and `thresholds check`
/// compares p90 only. Malloc counts must match exactly (they do not depend on the
/// machine or its load). Wall clock may grow by 150 % (2.5×): a 3× regression exceeds
/// that, while the p90 of the same build varied by up to 1.9× between runs on the shared
/// 2-core machine (scripts/bench-check records the quietest of 5 runs and retries a
/// failing check). The `.p50` entries serve `baseline check` against a named baseline.
extension Benchmark.Configuration {
    /// The configuration every Locality benchmark uses (`Benchmark.defaultConfiguration`).
    static var locality: Benchmark.Configuration {
        .init(
            metrics: [.wallClock, .mallocCountTotal],
            scalingFactor: .kilo,
            maxDuration: .seconds(2),
            maxIterations: 1_000,
            thresholds: [
                .mallocCountTotal: .init(absolute: [.p50: 0, .p90: 0]),
                .wallClock: .init(relative: [.p50: 150, .p90: 150]),
            ]
        )
    }

    /// `locality`, with a malloc tolerance of 1 % per sample for the gateway's path: its
    /// deadline timer's heap grows and is rebuilt every few thousand requests, so a
    /// sample's count varies a little (seen: 49,116 and 49,119 for 1,000 calls), while one
    /// allocation more per request is +1,000 (2-3 % of its 38-49 per request).
    static var localityAmortised: Benchmark.Configuration {
        var configuration = locality
        configuration.thresholds?[.mallocCountTotal] = .init(relative: [.p50: 1, .p90: 1])
        return configuration
    }
}
