/// Draws ranks 0..<n with Zipf probabilities: P(rank k) ∝ 1 / (k+1)^s (YCSB's "zipfian",
/// s = 0.99 by default). Rank 0 is the hottest key.
///
/// Exact inverse-CDF sampling: the cumulative weights are computed once (n doubles, so
/// n is bounded by `maxKeys`) and each draw is a binary search over them. Deterministic
/// for a given random stream: pass a `SeededRandom` to replay.
public struct ZipfSampler: Sendable {
    /// The largest key space accepted (8 bytes of table per key).
    public static let maxKeys = 10_000_000

    /// Number of ranks.
    public let count: Int
    /// The exponent s.
    public let exponent: Double
    private let cumulative: [Double]

    /// A sampler over `count` ranks (1…`maxKeys`) with exponent `exponent` (≥ 0).
    public init(count: Int, exponent: Double = 0.99) {
        precondition(count >= 1 && count <= Self.maxKeys, "ZipfSampler: count must be 1…\(Self.maxKeys)")
        precondition(exponent >= 0 && exponent.isFinite, "ZipfSampler: exponent must be finite and ≥ 0")
        self.count = count
        self.exponent = exponent
        var sums = [Double](repeating: 0, count: count)
        var total = 0.0
        for rank in 0..<count {
            total += 1 / pow(Double(rank + 1), exponent)
            sums[rank] = total
        }
        for rank in 0..<count { sums[rank] /= total }
        sums[count - 1] = 1
        cumulative = sums
    }

    /// Probability of `rank`.
    public func probability(of rank: Int) -> Double {
        rank == 0 ? cumulative[0] : cumulative[rank] - cumulative[rank - 1]
    }

    /// One rank drawn from `random`.
    public func next<R: RandomNumberGenerator>(using random: inout R) -> Int {
        let unit = Double(random.next() >> 11) * 0x1.0p-53
        var low = 0
        var high = count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] > unit { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
