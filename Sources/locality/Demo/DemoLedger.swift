import LocalityBench
import Synchronization

/// What the demo's clients saw: per player the matches acknowledged and attempted, and
/// per second of the run the latencies and errors (HdrHistogram).
///
/// Bounds: `players` counters and one histogram per second of the run (`seconds`);
/// samples past the last second land in it.
final class DemoLedger: Sendable {
    /// One second of the run.
    struct Second: Sendable {
        var latencies = LatencyHistogram()
        var errors = 0
    }

    struct State: Sendable {
        var acknowledged: [Int]
        var attempted: [Int]
        var seconds: [Second]
        var total = LatencyHistogram()
        var reads = 0
        var writes = 0
        var errors = 0
        var errorsByReason: [String: Int] = [:]
        /// Attempts retried (by what the attempt met), and the calls that answered only
        /// after a retry, with their latencies from the first attempt.
        var retriesByReason: [String: Int] = [:]
        var retriedCalls = LatencyHistogram()
        /// Seconds since the start of the last error seen.
        var lastErrorAt: Double?
    }

    private let state: Mutex<State>

    init(players: Int, seconds: Int) {
        state = Mutex(State(
            acknowledged: Array(repeating: 0, count: players),
            attempted: Array(repeating: 0, count: players),
            seconds: Array(repeating: Second(), count: max(1, seconds))))
    }

    /// A write to `player` is about to be sent.
    func attempt(_ player: Int) {
        state.withLock { $0.attempted[player] += 1 }
    }

    /// A request that started `at` seconds into the run succeeded after `latency` and
    /// `retries` retried attempts.
    func success(at second: Double, latency: Duration, write: Bool, player: Int, retries: Int = 0) {
        state.withLock { state in
            if retries > 0 { state.retriedCalls.record(latency) }
            let index = min(state.seconds.count - 1, max(0, Int(second)))
            state.seconds[index].latencies.record(latency)
            state.total.record(latency)
            if write {
                state.writes += 1
                state.acknowledged[player] += 1
            } else {
                state.reads += 1
            }
        }
    }

    /// An attempt met `reason` (may have run, refused, connection lost) and is retried.
    func retried(reason: String) {
        state.withLock { $0.retriesByReason[reason, default: 0] += 1 }
    }

    /// A request that started `at` seconds into the run failed with `reason`.
    func failure(at second: Double, reason: String) {
        state.withLock { state in
            let index = min(state.seconds.count - 1, max(0, Int(second)))
            state.seconds[index].errors += 1
            state.errors += 1
            state.errorsByReason[reason, default: 0] += 1
            state.lastErrorAt = max(state.lastErrorAt ?? 0, second)
        }
    }

    /// Requests answered in `second` of the run, their p99, and all errors so far: what
    /// the progress bar shows, read without copying the histograms.
    func progress(second: Int) -> (requests: UInt64, p99Milliseconds: Double, errors: Int) {
        state.withLock { state in
            let latencies = state.seconds[min(state.seconds.count - 1, max(0, second))].latencies
            return (latencies.count, latencies.milliseconds(at: 99), state.errors)
        }
    }

    /// A copy of everything recorded so far.
    var snapshot: State { state.withLock { $0 } }
}
