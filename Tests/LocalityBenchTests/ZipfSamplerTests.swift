import LocalityBench
import LocalityCore
import Testing

@Suite struct ZipfSamplerTests {
    @Test func probabilitiesFollowThePowerLawAndSumToOne() {
        let sampler = ZipfSampler(count: 1_000, exponent: 0.99)
        let total = (0..<1_000).reduce(0.0) { $0 + sampler.probability(of: $1) }
        #expect(abs(total - 1) < 1e-9)
        // P(k) / P(0) = (k+1)^-s
        for rank in [1, 9, 99, 999] {
            let expected = 1 / pow(Double(rank + 1), 0.99)
            #expect(abs(sampler.probability(of: rank) / sampler.probability(of: 0) - expected) < 1e-9)
        }
    }

    @Test func drawsMatchTheDistribution() {
        let sampler = ZipfSampler(count: 10_000, exponent: 0.99)
        var random = SeededRandom(seed: 7)
        var counts = [Int](repeating: 0, count: 10_000)
        let draws = 200_000
        for _ in 0..<draws { counts[sampler.next(using: &random)] += 1 }
        // The hottest ranks get their expected share within 5 % (hundreds to thousands of hits each).
        for rank in 0..<5 {
            let expected = sampler.probability(of: rank) * Double(draws)
            #expect(abs(Double(counts[rank]) - expected) < 0.05 * expected, "rank \(rank): \(counts[rank]) vs \(expected)")
        }
        // The top 1 % of keys take far more than 1 % of draws (about 47 % for s = 0.99, n = 10,000).
        let top = counts[0..<100].reduce(0, +)
        let expectedTop = (0..<100).reduce(0.0) { $0 + sampler.probability(of: $1) } * Double(draws)
        #expect(abs(Double(top) - expectedTop) < 0.02 * expectedTop)
        #expect(Double(top) > 0.4 * Double(draws))
        #expect(counts.allSatisfy { $0 >= 0 })
    }

    @Test func sameSeedSameStreamOtherSeedOtherStream() {
        let sampler = ZipfSampler(count: 500)
        func stream(_ seed: UInt64) -> [Int] {
            var random = SeededRandom(seed: seed)
            return (0..<1_000).map { _ in sampler.next(using: &random) }
        }
        #expect(stream(1) == stream(1))
        #expect(stream(1) != stream(2))
        #expect(stream(3).allSatisfy { $0 >= 0 && $0 < 500 })
    }

    @Test func uniformChooserSpreadsEvenly() {
        let chooser = KeyChooser(keys: 10, skew: .uniform)
        var random = SeededRandom(seed: 9)
        var counts = [Int](repeating: 0, count: 10)
        for _ in 0..<100_000 { counts[chooser.next(using: &random)] += 1 }
        #expect(counts.allSatisfy { abs($0 - 10_000) < 500 })
    }

    @Test func exponentZeroIsUniform() {
        let sampler = ZipfSampler(count: 4, exponent: 0)
        for rank in 0..<4 { #expect(abs(sampler.probability(of: rank) - 0.25) < 1e-12) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
