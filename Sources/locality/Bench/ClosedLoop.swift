import LocalityBench
import NIOCore

/// C workers, each with one call outstanding, for a fixed time (closed loop): the
/// driver of `bench transport` and `bench actors`.
enum ClosedLoop {
    struct Result {
        var calls = 0
        var errors = 0
        var elapsedSeconds = 0.0
        var latency = LatencyHistogram()

        func milliseconds(at percentile: Double) -> Double { latency.milliseconds(at: percentile) }

        /// Adds another run's calls, errors, time and latencies (rounds of one measurement).
        mutating func merge(_ other: Result) {
            calls += other.calls
            errors += other.errors
            elapsedSeconds += other.elapsedSeconds
            latency.add(other.latency)
        }
    }

    /// `concurrency` workers, each running `call(worker, sequence)` back to back for
    /// `seconds`; latencies in one histogram.
    static func run(
        concurrency: Int, seconds: Double, _ call: @escaping @Sendable (Int, Int) async throws -> Void
    ) async throws -> Result {
        let start = NIODeadline.now()
        let end = start + .nanoseconds(Int64(seconds * 1e9))
        var total = try await withThrowingTaskGroup(of: Result.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var result = Result()
                    var sequence = 0
                    while true {
                        let before = NIODeadline.now()
                        if before >= end { break }
                        do {
                            try await call(worker, sequence)
                            result.calls += 1
                        } catch {
                            result.errors += 1
                        }
                        sequence += 1
                        result.latency.record(nanoseconds: NIODeadline.now().uptimeNanoseconds - before.uptimeNanoseconds)
                    }
                    return result
                }
            }
            var total = Result()
            for try await part in group {
                total.calls += part.calls
                total.errors += part.errors
                total.latency.add(part.latency)
            }
            return total
        }
        total.elapsedSeconds = Double(NIODeadline.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return total
    }
}
