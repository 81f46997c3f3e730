/// How requests spread over the keys of `locality bench stateful`.
public enum KeySkew: String, Sendable, CaseIterable, Codable {
    /// Every key equally likely.
    case uniform
    /// Zipf with s = 0.99 (YCSB's default): a few keys take most requests.
    case zipf
}

/// Picks the key index of each request: uniform or Zipf, from a seeded stream.
public struct KeyChooser: Sendable {
    public let keys: Int
    private let zipf: ZipfSampler?

    /// `keys` keys (1…`ZipfSampler.maxKeys`) with the given skew.
    public init(keys: Int, skew: KeySkew, exponent: Double = 0.99) {
        self.keys = keys
        self.zipf = skew == .zipf ? ZipfSampler(count: keys, exponent: exponent) : nil
    }

    /// The next key index in 0..<keys.
    public func next<R: RandomNumberGenerator>(using random: inout R) -> Int {
        if let zipf { return zipf.next(using: &random) }
        return Int(random.next() % UInt64(keys))
    }
}
