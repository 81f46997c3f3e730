import Foundation
import LocalityCore
import NIOCore
import Testing
@testable import LocalityTransport

/// Seeded fuzzing of the frame decoder: random and half-valid byte streams must either
/// decode into frames within the limit, ask for more data, or throw `FrameDecodingError`,
/// never crash, and never claim more bytes than the limit.
@Suite("FrameDecoder fuzz")
struct FrameDecoderFuzzTests {
    /// One input: a random header shape followed by random bytes.
    private static func input(_ random: inout SeededRandom, scratch: inout ByteBuffer, limit: Int) {
        scratch.clear()
        switch random.next() % 4 {
        case 0:
            // Pure noise.
            let words = Int(random.next() % 6)
            for _ in 0..<words { scratch.writeInteger(random.next()) }
            if random.next() & 1 == 0 { scratch.writeInteger(UInt8(truncatingIfNeeded: random.next())) }
        case 1:
            // Plausible length, any kind byte, truncated or complete body.
            let length = UInt32(random.next() % UInt64(limit + 64))
            scratch.writeInteger(length)
            scratch.writeInteger(UInt8(truncatingIfNeeded: random.next() % 10))
            scratch.writeInteger(random.next())
            let words = Int(random.next() % 8)
            for _ in 0..<words { scratch.writeInteger(random.next()) }
        case 2:
            // Hostile lengths near the edges.
            let edges: [UInt32] = [0, 1, 8, 9, 10, UInt32(limit - 4), UInt32(limit - 3), UInt32(limit), .max, .max - 8]
            scratch.writeInteger(edges[Int(random.next() % UInt64(edges.count))])
            scratch.writeInteger(UInt8(1 + random.next() % 7))
            scratch.writeInteger(random.next())
        default:
            // Several valid small frames followed by noise.
            let frames = 1 + Int(random.next() % 3)
            for _ in 0..<frames {
                let words = Int(random.next() % 3)
                scratch.writeInteger(UInt32(Frame.fixedBodySize + 8 * words))
                scratch.writeInteger(UInt8(1 + random.next() % 7))
                scratch.writeInteger(random.next())
                for _ in 0..<words { scratch.writeInteger(random.next()) }
            }
            scratch.writeInteger(UInt8(truncatingIfNeeded: random.next()))
        }
    }

    @Test func randomInputsNeverCrashOrExceedTheFrameLimit() throws {
        let limit = 4096
        var random = SeededRandom(seed: 0x5EED_F4A3)
        var scratch = ByteBuffer()
        scratch.reserveCapacity(256)
        let clock = ContinuousClock()
        let started = clock.now
        // 10 s by default (about 300k–450k inputs in a debug build); LOCALITY_SOAK=1 runs
        // all 1,000,000 whatever it takes.
        let soak = ProcessInfo.processInfo.environment["LOCALITY_SOAK"] != nil
        let budget = soak ? Duration.seconds(600) : Duration.seconds(10)
        let target = 1_000_000
        var inputs = 0
        var decoded = 0
        var rejected = 0
        var needMore = 0
        var oversized = 0
        while inputs < target {
            // The time budget only cuts the run short past the 100,000 inputs it must cover.
            if inputs >= 100_000, inputs % 10_000 == 0, clock.now - started > budget { break }
            Self.input(&random, scratch: &scratch, limit: limit)
            inputs += 1
            var buffer = scratch
            do {
                while let frame = try FrameDecoder.decodeFrame(from: &buffer, maxFrameSize: limit) {
                    decoded += 1
                    if frame.wireSize > limit { oversized += 1 }
                }
                needMore += 1
            } catch is FrameDecodingError {
                rejected += 1
            }
        }
        print("frame decoder fuzz: \(inputs) inputs in \(clock.now - started): \(decoded) frames, \(rejected) rejected, \(needMore) ended needing more data")
        #expect(oversized == 0)
        #expect(inputs >= 100_000)
        #expect(decoded > 0)
        #expect(rejected > 0)
    }
}
