import Testing
import LocalityCore

@Suite("xxHash64 matches the reference vectors")
struct StableHashTests {
    @Test("seed 0 reference vectors", arguments: [
        ("", UInt64(0xef46db3751d8e999)),
        ("a", 0xd24ec4f1a98c6e5b),
        ("abc", 0x44bc2cf5ad770999),
        ("message digest", 0x066ed728fceeb3be),
        ("abcdefghijklmnopqrstuvwxyz", 0xcfe1f278fa89835c),
    ])
    func referenceVectors(input: String, expected: UInt64) {
        #expect(StableHash.xxHash64(input) == expected)
        #expect(StableHash.xxHash64(bytes: Array(input.utf8)) == expected)
    }

    @Test("seed 1 reference vector")
    func seededVector() {
        #expect(StableHash.xxHash64("", seed: 1) == 0xd5afba1336a3be4b)
    }

    @Test("long inputs take the 32-byte stripe path and stay stable")
    func longInput() {
        let text = String(repeating: "locality", count: 100)
        let first = StableHash.xxHash64(text)
        #expect(first == StableHash.xxHash64(bytes: Array(text.utf8)))
        #expect(first != StableHash.xxHash64(text + "x"))
    }
}
