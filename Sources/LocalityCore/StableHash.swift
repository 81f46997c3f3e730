/// Stable, platform-independent hashing for placement and wire checksums.
///
/// Swift's `Hasher` is seeded per process, so it must never decide where a key lives.
/// `StableHash` is xxHash64 (Yann Collet's reference algorithm), checked in the tests
/// against the reference vectors listed in REFERENCES.md.
public enum StableHash {
    private static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let prime3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let prime4: UInt64 = 0x85EB_CA77_C2B2_AE63
    private static let prime5: UInt64 = 0x27D4_EB2F_1656_67C5

    /// xxHash64 of a UTF-8 string.
    @inlinable
    public static func xxHash64(_ string: String, seed: UInt64 = 0) -> UInt64 {
        var copy = string
        return copy.withUTF8 { xxHash64(UnsafeRawBufferPointer($0), seed: seed) }
    }

    /// xxHash64 of a byte collection.
    public static func xxHash64<Bytes: Collection>(bytes: Bytes, seed: UInt64 = 0) -> UInt64 where Bytes.Element == UInt8 {
        if let result = bytes.withContiguousStorageIfAvailable({ xxHash64(UnsafeRawBufferPointer($0), seed: seed) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { xxHash64($0, seed: seed) }
    }

    /// xxHash64 of raw memory.
    public static func xxHash64(_ input: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        let length = input.count
        var offset = 0
        var hash: UInt64

        if length >= 32 {
            var v1 = seed &+ prime1 &+ prime2
            var v2 = seed &+ prime2
            var v3 = seed
            var v4 = seed &- prime1
            let limit = length - 32
            while offset <= limit {
                v1 = round(v1, read64(input, offset))
                v2 = round(v2, read64(input, offset + 8))
                v3 = round(v3, read64(input, offset + 16))
                v4 = round(v4, read64(input, offset + 24))
                offset += 32
            }
            hash = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
            hash = merge(hash, v1)
            hash = merge(hash, v2)
            hash = merge(hash, v3)
            hash = merge(hash, v4)
        } else {
            hash = seed &+ prime5
        }

        hash &+= UInt64(length)

        while offset + 8 <= length {
            let k1 = round(0, read64(input, offset))
            hash ^= k1
            hash = rotl(hash, 27) &* prime1 &+ prime4
            offset += 8
        }
        if offset + 4 <= length {
            hash ^= UInt64(read32(input, offset)) &* prime1
            hash = rotl(hash, 23) &* prime2 &+ prime3
            offset += 4
        }
        while offset < length {
            hash ^= UInt64(input[offset]) &* prime5
            hash = rotl(hash, 11) &* prime1
            offset += 1
        }

        hash ^= hash >> 33
        hash &*= prime2
        hash ^= hash >> 29
        hash &*= prime3
        hash ^= hash >> 32
        return hash
    }

    @inline(__always)
    private static func round(_ accumulator: UInt64, _ input: UInt64) -> UInt64 {
        var acc = accumulator &+ input &* prime2
        acc = rotl(acc, 31)
        return acc &* prime1
    }

    @inline(__always)
    private static func merge(_ accumulator: UInt64, _ value: UInt64) -> UInt64 {
        let acc = accumulator ^ round(0, value)
        return acc &* prime1 &+ prime4
    }

    @inline(__always)
    private static func rotl(_ value: UInt64, _ bits: UInt64) -> UInt64 {
        (value << bits) | (value >> (64 - bits))
    }

    @inline(__always)
    private static func read64(_ buffer: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inline(__always)
    private static func read32(_ buffer: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// SplitMix64's output function (Steele, Lea and Flood): a bijective 64-bit mix, used
    /// to seed `SeededRandom` and to score rendezvous buckets.
    @inlinable
    public static func splitMix64Finalizer(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
