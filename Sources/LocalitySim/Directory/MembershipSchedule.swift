import LocalityCore
import LocalityPlacement

/// The membership service of the directory simulation, reduced to its effect: every
/// membership change (a crash or a join) reaches each live node as a numbered view after
/// its own dissemination delay, in order. Runs as one simulated process that sends
/// `.view` messages through the simulated network.
public struct MembershipSchedule: Sendable {
    /// One view delivery: at `time`, send view `version` to node `node`.
    struct Delivery: Sendable {
        var time: Int64
        var node: Int
        var version: Int
    }

    /// Ring of each view version.
    let views: [HashRing]
    /// Deliveries sorted by time (ties by node), consumed in order.
    let deliveries: [Delivery]
    var cursor = 0

    /// - Parameters:
    ///   - changes: per view version ≥ 1, its time, members and the nodes alive to receive it.
    ///   - initial: the members of version 0 (known to every initial node at time zero).
    init(initial: [NodeID], changes: [(time: Timestamp, members: [NodeID], recipients: [Int])],
         ringSettings: RingSettings, delayMin: Duration, delayMax: Duration, random: inout SeededRandom) {
        var views = [HashRing(members: initial, settings: ringSettings)]
        var deliveries: [Delivery] = []
        var lastDelivery: [Int: Int64] = [:]
        for (offset, change) in changes.enumerated() {
            views.append(HashRing(members: change.members, settings: ringSettings))
            let span = max(0, delayMax.nanoseconds - delayMin.nanoseconds)
            for node in change.recipients {
                let delay = delayMin.nanoseconds + (span > 0 ? Int64(random.next() % UInt64(span)) : 0)
                // In order per node: a later view never overtakes an earlier one.
                let time = max(change.time.nanoseconds + delay, (lastDelivery[node] ?? .min) + 1)
                lastDelivery[node] = time
                deliveries.append(Delivery(time: time, node: node, version: offset + 1))
            }
        }
        deliveries.sort { ($0.time, $0.node) < ($1.time, $1.node) }
        self.views = views
        self.deliveries = deliveries
    }

    var nextDeadline: Timestamp {
        cursor < deliveries.count ? Timestamp(nanoseconds: deliveries[cursor].time) : Timestamp(nanoseconds: .max)
    }

    mutating func tick(now: Timestamp, into effects: inout [SimEffect<DirectorySimMessage, Never>]) {
        while cursor < deliveries.count, deliveries[cursor].time <= now.nanoseconds {
            let delivery = deliveries[cursor]
            cursor += 1
            let message = DirectorySimMessage.view(version: delivery.version, ring: views[delivery.version])
            effects.append(.send(message, to: delivery.node, reliable: true, bytes: message.estimatedBytes))
        }
    }
}

/// A simulated process of the directory experiment: a directory node, or the membership
/// schedule (one extra process).
public struct DirectorySimProcess: SimProcess, Sendable {
    /// Directory requests, replies, hand-offs and view changes.
    public typealias Message = DirectorySimMessage
    /// This experiment observes nothing through the engine: it reads the nodes' counters at the end.
    public typealias Observation = Never

    /// Set for directory nodes.
    public var node: DirectorySimNode?
    /// Set for the membership schedule process.
    public var schedule: MembershipSchedule?

    /// A directory node.
    public init(node: DirectorySimNode) {
        self.node = node
    }

    /// The membership schedule process.
    public init(schedule: MembershipSchedule) {
        self.schedule = schedule
    }

    public mutating func start(now: Timestamp) -> [SimEffect<DirectorySimMessage, Never>] { [] }

    public mutating func receive(_ message: DirectorySimMessage, from: Int, reliable: Bool, now: Timestamp)
        -> [SimEffect<DirectorySimMessage, Never>]
    {
        var effects: [SimEffect<DirectorySimMessage, Never>] = []
        node?.receive(message, from: from, now: now, into: &effects)
        return effects
    }

    public mutating func deliveryFailed(_ message: DirectorySimMessage, to: Int, now: Timestamp)
        -> [SimEffect<DirectorySimMessage, Never>]
    {
        var effects: [SimEffect<DirectorySimMessage, Never>] = []
        node?.deliveryFailed(message, now: now, into: &effects)
        return effects
    }

    public mutating func tick(now: Timestamp) -> [SimEffect<DirectorySimMessage, Never>] {
        var effects: [SimEffect<DirectorySimMessage, Never>] = []
        node?.tick(now: now, into: &effects)
        schedule?.tick(now: now, into: &effects)
        return effects
    }

    public var nextDeadline: Timestamp {
        node?.nextDeadline ?? schedule?.nextDeadline ?? Timestamp(nanoseconds: .max)
    }
}
