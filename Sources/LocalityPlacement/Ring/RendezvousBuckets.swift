import LocalityCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Rendezvous (highest random weight) hashing over a fixed table of 2^bits buckets
/// (Thaler and Ravishankar 1998; the weighted score −w / ln(u) of Schindelhauer and
/// Schomaker 2005): a key's hash picks a bucket by its top bits, and each bucket belongs
/// to the member with the highest score for it. The table is a pure function of the
/// member set, so every node builds the same one from the same view; any member can be
/// added or removed, and only the buckets that member wins or held change owner (the
/// minimal movement of rendezvous hashing). A lookup is one hash and one array read.
///
/// Balance: a member's share is its bucket count over 2^bits, binomial around the mean
/// with σ ≈ √(n / 2^bits) of it; at 2^18 buckets and 10 members the largest share is about
/// 1 % above the mean, against about 6 % for 256 virtual nodes.
enum RendezvousBuckets {
    /// A member's seed: xxHash64 of its name (a node restarted under the same name gets
    /// its buckets back).
    static func seed(name: String) -> UInt64 { StableHash.xxHash64(name) }

    /// The score of a member for a bucket: a 64-bit mix (SplitMix64's finalizer) of the
    /// member's seed and the bucket index.
    @inlinable
    static func score(seed: UInt64, bucket: UInt64) -> UInt64 {
        StableHash.splitMix64Finalizer(seed ^ (bucket &* 0x9E37_79B9_7F4A_7C15))
    }

    /// The weighted score −w / ln(u), u the score mapped into (0, 1).
    @inlinable
    static func weightedScore(seed: UInt64, bucket: UInt64, weight: Double) -> Double {
        let unit = (Double(score(seed: seed, bucket: bucket) >> 11) + 0.5) * 0x1.0p-53
        return -weight / log(unit)
    }

    /// The owner index (into `seeds`) of every bucket. Equal weights compare raw scores;
    /// different weights compare −w / ln(u). Ties go to the lower index.
    static func table(seeds: [UInt64], weights: [Double], bits: Int) -> ContiguousArray<UInt32> {
        let count = 1 << bits
        var owners = ContiguousArray<UInt32>(repeating: 0, count: seeds.count == 0 ? 0 : count)
        guard !seeds.isEmpty else { return owners }
        let uniform = weights.allSatisfy { $0 == weights[0] }
        seeds.withUnsafeBufferPointer { seeds in
            owners.withUnsafeMutableBufferPointer { owners in
                for bucket in 0..<count {
                    var best = 0
                    if uniform {
                        var bestScore = score(seed: seeds[0], bucket: UInt64(bucket))
                        for member in 1..<seeds.count {
                            let candidate = score(seed: seeds[member], bucket: UInt64(bucket))
                            if candidate > bestScore { bestScore = candidate; best = member }
                        }
                    } else {
                        var bestScore = weightedScore(seed: seeds[0], bucket: UInt64(bucket), weight: weights[0])
                        for member in 1..<seeds.count {
                            let candidate = weightedScore(seed: seeds[member], bucket: UInt64(bucket), weight: weights[member])
                            if candidate > bestScore { bestScore = candidate; best = member }
                        }
                    }
                    owners[bucket] = UInt32(best)
                }
            }
        }
        return owners
    }

    /// Member indices by descending score for `bucket`: the owner first, then the members
    /// that would own it if those before were gone (the bucket's preference list).
    static func ranked(bucket: Int, seeds: [UInt64], weights: [Double], count: Int) -> [Int] {
        let uniform = weights.allSatisfy { $0 == weights.first }
        // The same order as `table`: higher score first, the lower index on a tie.
        let scored = seeds.indices.map { member -> (raw: UInt64, weighted: Double, member: Int) in
            (score(seed: seeds[member], bucket: UInt64(bucket)),
             uniform ? 0 : weightedScore(seed: seeds[member], bucket: UInt64(bucket), weight: weights[member]), member)
        }
        let sorted = scored.sorted { lhs, rhs in
            if uniform, lhs.raw != rhs.raw { return lhs.raw > rhs.raw }
            if !uniform, lhs.weighted != rhs.weighted { return lhs.weighted > rhs.weighted }
            return lhs.member < rhs.member
        }
        return sorted.prefix(max(0, count)).map(\.member)
    }
}
