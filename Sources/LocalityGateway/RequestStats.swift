import DequeModule
import Histogram
import Synchronization

/// One second of gateway traffic, as `/v1/stats` reports it.
public struct RequestStatsSample: Sendable, Codable, Equatable {
    /// Seconds of the clock `RequestStats` was given (Unix seconds in production).
    public var second: Int64
    /// Actor calls completed in that second.
    public var requests: Int
    /// Answers with status ≥ 500.
    public var errors: Int
    /// 429 and 503 answers (load shed).
    public var rejected: Int
    /// Latency percentiles in milliseconds (0 without requests).
    public var p50Ms: Double
    /// The 99th percentile latency, in milliseconds.
    public var p99Ms: Double
}

/// A per-second time series of request counts and latency percentiles for the dashboard.
///
/// Bounded: one live HdrHistogram (1 µs … 60 s, 2 significant digits) for the current
/// second, and the summaries of the last `capacity` seconds in a ring buffer (older
/// seconds are dropped; quiet seconds are stored as zeros).
final class RequestStats: Sendable {
    private struct State {
        var second: Int64
        var histogram: Histogram<UInt64>
        var requests = 0
        var errors = 0
        var rejected = 0
        var history = Deque<RequestStatsSample>()
    }

    let capacity: Int
    private let now: @Sendable () -> Int64
    private let state: Mutex<State>

    /// - Parameters:
    ///   - capacity: seconds kept.
    ///   - now: the current second (injected for tests).
    init(capacity: Int = 300, now: @escaping @Sendable () -> Int64) {
        self.capacity = max(1, capacity)
        self.now = now
        self.state = Mutex(State(second: now(), histogram: Self.makeHistogram()))
    }

    private static func makeHistogram() -> Histogram<UInt64> {
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .two)
    }

    /// Counts one answered request.
    func record(status: Int, microseconds: UInt64) {
        let second = now()
        state.withLock { state in
            roll(&state, to: second)
            state.requests += 1
            if status >= 500 { state.errors += 1 }
            if status == 429 || status == 503 { state.rejected += 1 }
            _ = state.histogram.record(min(microseconds, 60_000_000))
        }
    }

    /// Completed seconds, oldest first (the current, unfinished second is not included).
    func samples() -> [RequestStatsSample] {
        let second = now()
        return state.withLock { state in
            roll(&state, to: second)
            return Array(state.history)
        }
    }

    private func roll(_ state: inout State, to second: Int64) {
        guard second > state.second else { return }
        append(&state, summary(of: state))
        // Seconds without traffic between the last one and now.
        let gap = min(Int64(capacity), second - state.second - 1)
        if gap > 0 {
            for offset in 0..<gap {
                append(&state, RequestStatsSample(second: second - gap + offset, requests: 0, errors: 0, rejected: 0, p50Ms: 0, p99Ms: 0))
            }
        }
        state.second = second
        state.requests = 0
        state.errors = 0
        state.rejected = 0
        state.histogram.reset()
    }

    private func summary(of state: State) -> RequestStatsSample {
        let hasData = state.requests > 0
        return RequestStatsSample(
            second: state.second, requests: state.requests, errors: state.errors, rejected: state.rejected,
            p50Ms: hasData ? Double(state.histogram.valueAtPercentile(50)) / 1_000 : 0,
            p99Ms: hasData ? Double(state.histogram.valueAtPercentile(99)) / 1_000 : 0
        )
    }

    private func append(_ state: inout State, _ sample: RequestStatsSample) {
        state.history.append(sample)
        while state.history.count > capacity { state.history.removeFirst() }
    }
}
