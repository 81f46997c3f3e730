import LocalityCore

/// The simulated network: latency, random loss, one-way loss and partitions.
public struct SimNetwork: Sendable {
    /// One-way latency floor. Default 0.5 ms (a LAN).
    public var baseLatency: Duration = .microseconds(500)
    /// Uniform extra one-way latency in [0, jitter). Default 1 ms.
    public var jitter: Duration = .milliseconds(1)
    /// Probability that a datagram (or one TCP segment transmission) is lost. Default 0.
    public var loss: Double = 0
    /// First TCP retransmission timeout; doubles at each loss (Linux min RTO 200 ms).
    public var streamRetransmitTimeout: Duration = .milliseconds(200)
    /// TCP gives up after this many lost transmissions and reports a failure.
    public var streamMaxRetransmits: Int = 6
    var oneWayLoss: [Link: Double] = [:]
    var group: [Int] = []

    struct Link: Hashable, Sendable {
        var from: Int
        var to: Int
    }

    /// A LAN with no loss and no partition.
    public init() {}

    func canReach(_ from: Int, _ to: Int) -> Bool {
        guard !group.isEmpty else { return true }
        let a = from < group.count ? group[from] : 0
        let b = to < group.count ? group[to] : 0
        return a == b
    }

    func lossProbability(_ from: Int, _ to: Int) -> Double {
        guard !oneWayLoss.isEmpty, let extra = oneWayLoss[Link(from: from, to: to)] else { return loss }
        return 1 - (1 - loss) * (1 - extra)
    }

    func latency(_ random: inout SeededRandom) -> Duration {
        baseLatency + jitter.scaled(by: random.nextUnit())
    }

    /// A datagram's fate: its delay, or nil when lost.
    func datagramDelay(_ from: Int, _ to: Int, random: inout SeededRandom) -> Duration? {
        guard canReach(from, to) else { return nil }
        if random.nextUnit() < lossProbability(from, to) { return nil }
        return latency(&random)
    }

    /// A stream message's fate: connection set-up (one round trip) plus the transfer, plus
    /// one retransmission timeout (doubling) per lost transmission; nil when it gives up.
    func streamDelay(_ from: Int, _ to: Int, random: inout SeededRandom) -> Duration? {
        guard canReach(from, to) else { return nil }
        var delay = latency(&random) * 3
        var timeout = streamRetransmitTimeout
        let p = max(lossProbability(from, to), lossProbability(to, from))
        var losses = 0
        while random.nextUnit() < p {
            losses += 1
            if losses > streamMaxRetransmits { return nil }
            delay += timeout
            timeout = timeout * 2
        }
        return delay
    }
}
