/// Per key: the sum of deltas of acknowledged moves, and of moves whose outcome is
/// unknown (the request failed: it may or may not have been applied). After a run the
/// stored score of every key must lie in `acknowledged … acknowledged + unknown` (deltas
/// are positive); with no failed moves it must equal `acknowledged`.
public struct AckLedger: Sendable, Equatable {
    public private(set) var acknowledged: [Int64]
    public private(set) var unknown: [Int64]

    public init(keys: Int) {
        acknowledged = [Int64](repeating: 0, count: keys)
        unknown = [Int64](repeating: 0, count: keys)
    }

    public mutating func acknowledge(key: Int, delta: Int64) { acknowledged[key] += delta }

    public mutating func fail(key: Int, delta: Int64) { unknown[key] += delta }

    public mutating func add(_ other: AckLedger) {
        for index in acknowledged.indices {
            acknowledged[index] += other.acknowledged[index]
            unknown[index] += other.unknown[index]
        }
    }

    /// Whether `score` is a possible final score of `key`.
    public func accepts(score: Int64, key: Int) -> Bool {
        score >= acknowledged[key] && score <= acknowledged[key] + unknown[key]
    }
}
