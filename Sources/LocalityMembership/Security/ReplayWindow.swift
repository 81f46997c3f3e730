/// Anti-replay sliding window over a sender's packet counters (RFC 4303 §3.4.3, the
/// IPsec ESP sequence-number check): counters above the highest seen advance the window;
/// counters inside the window are accepted once; counters older than the window or seen
/// before are rejected. Gossip over UDP reorders a little, so the window is 256 wide.
public struct ReplayWindow: Sendable, Hashable {
    /// Width of the window in counters.
    public static let width: UInt64 = 256
    /// The highest counter accepted so far (0: none yet).
    public private(set) var highest: UInt64 = 0
    /// Bit `i` of word `i / 64` set = counter `highest - i` seen.
    private var seen: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    /// An empty window: no counter seen yet.
    public init() {}

    /// Equal when the highest counter and the seen bits match.
    public static func == (lhs: ReplayWindow, rhs: ReplayWindow) -> Bool {
        lhs.highest == rhs.highest && lhs.seen == rhs.seen
    }

    /// Hashes the highest counter and the seen bits.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(highest)
        hasher.combine(seen.0); hasher.combine(seen.1); hasher.combine(seen.2); hasher.combine(seen.3)
    }

    /// Accepts `counter` if it is new, and records it. Counter 0 is never valid.
    public mutating func accept(_ counter: UInt64) -> Bool {
        guard counter != 0 else { return false }
        if counter > highest {
            shift(by: counter - highest)
            highest = counter
            setBit(0)
            return true
        }
        let age = highest - counter
        guard age < Self.width, !bit(age) else { return false }
        setBit(age)
        return true
    }

    private func word(_ index: Int) -> UInt64 {
        switch index {
        case 0: seen.0
        case 1: seen.1
        case 2: seen.2
        default: seen.3
        }
    }

    private mutating func setWord(_ index: Int, _ value: UInt64) {
        switch index {
        case 0: seen.0 = value
        case 1: seen.1 = value
        case 2: seen.2 = value
        default: seen.3 = value
        }
    }

    private func bit(_ age: UInt64) -> Bool { word(Int(age / 64)) & (1 << (age % 64)) != 0 }

    private mutating func setBit(_ age: UInt64) {
        let index = Int(age / 64)
        setWord(index, word(index) | (1 << (age % 64)))
    }

    /// Ages every recorded counter by `distance` (bits move towards higher words).
    private mutating func shift(by distance: UInt64) {
        guard distance < Self.width else {
            seen = (0, 0, 0, 0)
            return
        }
        let words = Int(distance / 64)
        let bits = distance % 64
        var result: [UInt64] = [0, 0, 0, 0]
        for target in 0..<4 {
            let source = target - words
            guard source >= 0 else { continue }
            var value = word(source) << bits
            if bits > 0, source - 1 >= 0 { value |= word(source - 1) >> (64 - bits) }
            result[target] = value
        }
        seen = (result[0], result[1], result[2], result[3])
    }
}

/// Replay windows for a bounded number of senders (keyed by the sender's per-process uid).
///
/// Overload: when `capacity` senders are tracked and a new one arrives, the sender
/// heard from least recently is forgotten. A forgotten sender's old packets could then be
/// replayed once more; with `capacity` far above the cluster size that requires an
/// attacker to first make `capacity` authenticated senders appear, which needs the key.
public struct ReplayGuard: Sendable {
    /// Most senders tracked at once.
    public let capacity: Int
    private var windows: [UInt64: (window: ReplayWindow, lastUse: UInt64)] = [:]
    private var useClock: UInt64 = 0

    /// A guard for at most `capacity` senders (default 4096, `GossipSettings.replaySenders`).
    public init(capacity: Int = 4096) {
        precondition(capacity > 0, "ReplayGuard capacity must be positive")
        self.capacity = capacity
    }

    /// Senders currently tracked.
    public var trackedSenders: Int { windows.count }

    /// Accepts (and records) `counter` from `sender` unless it is a replay. Call it only
    /// after the packet's tag verified, so forged packets cannot evict real senders.
    public mutating func accept(sender: UInt64, counter: UInt64) -> Bool {
        useClock &+= 1
        if var entry = windows[sender] {
            let accepted = entry.window.accept(counter)
            entry.lastUse = useClock
            windows[sender] = entry
            return accepted
        }
        if windows.count >= capacity, let oldest = windows.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            windows.removeValue(forKey: oldest)
        }
        var window = ReplayWindow()
        let accepted = window.accept(counter)
        windows[sender] = (window, useClock)
        return accepted
    }
}
