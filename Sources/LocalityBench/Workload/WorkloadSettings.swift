/// The request mix of `locality bench stateful`.
public struct WorkloadSettings: Sendable, Codable, Equatable {
    /// Share of requests that are writes (moves), 0…1. Default 0.2.
    public var writeRatio: Double = 0.2
    /// Number of distinct keys. Default 10,000.
    public var keys: Int = 10_000
    /// Spread of requests over the keys. Default uniform.
    public var skew: KeySkew = .uniform
    /// Seed of the request streams (each connection derives its own).
    public var seed: UInt64 = 42

    public init() {}

    enum CodingKeys: String, CodingKey {
        case keys, skew, seed
        case writeRatio = "write_ratio"
    }

    /// The key name of index `index` (`s42`).
    public static func keyName(_ index: Int) -> String { "s\(index)" }

    /// Delta of a write: 1…10 from the stream.
    public static func delta<R: RandomNumberGenerator>(using random: inout R) -> Int64 {
        Int64(random.next() % 10) + 1
    }
}
