import Foundation
import LocalityCore

/// Lifeguard's dynamic suspicion timeout (Lifeguard §IV.B; memberlist suspicion.go).
///
/// A suspicion starts with the maximum timeout and shrinks logarithmically toward the
/// minimum as distinct members independently suspect the same member:
/// timeout = max(min, max − (max − min) · log(C + 1) / log(K + 1)).
public struct SuspicionTimeout: Sendable, Hashable {
    /// Lower bound: max(suspicionFloor, suspicionMult × log10(max(1, N)) × probeInterval).
    public var minimum: Duration
    /// Upper bound: suspicionMaxTimeoutMult × minimum.
    public var maximum: Duration
    /// Expected confirmations K; with K < 1 the minimum applies at once.
    public var expectedConfirmations: Int

    /// Explicit bounds; `maximum` is raised to `minimum` when below it.
    public init(minimum: Duration, maximum: Duration, expectedConfirmations: Int) {
        self.minimum = minimum
        self.maximum = max(minimum, maximum)
        self.expectedConfirmations = expectedConfirmations
    }

    /// The bounds for a cluster of `memberCount` members under `settings`.
    public init(memberCount: Int, settings: SWIMSettings) {
        let nodeScale = max(1.0, log10(Double(max(1, memberCount))))
        let minimum = max(settings.suspicionFloor, settings.probeInterval.scaled(by: settings.suspicionMult * nodeScale))
        let k = memberCount - 2 < settings.expectedSuspicionConfirmations ? 0 : settings.expectedSuspicionConfirmations
        self.init(
            minimum: minimum,
            maximum: minimum.scaled(by: settings.suspicionMaxTimeoutMult),
            expectedConfirmations: k
        )
    }

    /// Total timeout (from the start of the suspicion) after `confirmations` independent confirmations.
    public func timeout(confirmations: Int) -> Duration {
        guard expectedConfirmations >= 1 else { return minimum }
        let fraction = log(Double(confirmations) + 1) / log(Double(expectedConfirmations) + 1)
        let raw = maximum.seconds - fraction * (maximum.seconds - minimum.seconds)
        let rawMillis = (raw * 1000).rounded(.down)
        let timeout = Duration.milliseconds(Int64(rawMillis))
        return timeout < minimum ? minimum : timeout
    }
}

/// One running suspicion of one member: its start, bounds and the distinct members that
/// raised or confirmed it.
struct Suspicion: Sendable {
    let incarnation: UInt64
    let startedAt: Timestamp
    let bounds: SuspicionTimeout
    /// Distinct origins seen so far (the first origin is not a confirmation). Bounded by K + 1.
    private(set) var origins: [NodeID]

    init(incarnation: UInt64, from origin: NodeID, startedAt: Timestamp, bounds: SuspicionTimeout) {
        self.incarnation = incarnation
        self.startedAt = startedAt
        self.bounds = bounds
        self.origins = [origin]
    }

    var confirmations: Int { origins.count - 1 }

    var deadline: Timestamp { startedAt + bounds.timeout(confirmations: confirmations) }

    /// Records a confirmation from `origin`. Returns true when it is new and counted
    /// (memberlist re-broadcasts only those).
    mutating func confirm(from origin: NodeID) -> Bool {
        guard confirmations < bounds.expectedConfirmations, !origins.contains(origin) else { return false }
        origins.append(origin)
        return true
    }
}
