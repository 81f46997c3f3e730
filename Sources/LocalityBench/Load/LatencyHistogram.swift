import Histogram
import LocalityCore

/// Nanosecond latencies (up to 60 s) with HdrHistogram percentiles, 3 significant digits.
public struct LatencyHistogram: Sendable {
    public var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)

    public init() {}

    public mutating func record(_ duration: Duration) {
        record(nanoseconds: UInt64(max(0, duration.nanoseconds)))
    }

    public mutating func record(nanoseconds: UInt64) {
        _ = histogram.record(min(nanoseconds, 60_000_000_000))
    }

    public mutating func add(_ other: LatencyHistogram) {
        histogram.add(other.histogram)
    }

    /// Recorded values.
    public var count: UInt64 { histogram.totalCount }

    /// The latency at `percentile` (0…100) in milliseconds, rounded to the microsecond;
    /// 100 is the maximum.
    public func milliseconds(at percentile: Double) -> Double {
        guard histogram.totalCount > 0 else { return 0 }
        let nanoseconds = percentile >= 100 ? histogram.max : histogram.valueAtPercentile(percentile)
        return (Double(nanoseconds) / 1e6 * 1000).rounded() / 1000
    }

    /// (latency ms, percentile) pairs for a CDF plot, at the given percentiles.
    public func cdf(percentiles: [Double] = LatencyHistogram.plotPercentiles) -> [(milliseconds: Double, percentile: Double)] {
        guard histogram.totalCount > 0 else { return [] }
        return percentiles.map { (milliseconds(at: $0), $0) }
    }

    /// Percentiles sampled for CDF plots (dense in the tail).
    public static let plotPercentiles: [Double] = [0.1, 1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 97, 98, 99, 99.5, 99.9, 99.95, 99.99, 100]
}
