/// A seeded, deterministic random source (xoshiro256**, seeded through SplitMix64).
///
/// Protocol cores take one of these instead of calling `Int.random`, so a simulation
/// replays exactly from its seed. It is a value type: copying it forks the stream.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose whole stream is determined by `seed`.
    public init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            return StableHash.splitMix64Finalizer(splitMix)
        }
        state = (next(), next(), next(), next())
    }

    /// The next 64 random bits of the stream.
    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    /// A new independent generator derived from this one (for giving each simulated node its own stream).
    public mutating func split() -> SeededRandom {
        SeededRandom(seed: next())
    }

    /// A uniform double in [0, 1).
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    @inline(__always)
    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
