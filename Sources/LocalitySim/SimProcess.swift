import LocalityCore

/// What a simulated process asks of the simulated world.
public enum SimEffect<Message, Observation> {
    /// Send `message` to node `to`. `reliable` messages model a TCP stream: never lost at
    /// random, but delayed by retransmissions and cut by partitions and crashes. `bytes` is
    /// the message's encoded size, counted in the traffic statistics.
    case send(Message, to: Int, reliable: Bool, bytes: Int)
    /// Something the experiment wants to measure (a membership event, a directory answer…).
    case observe(Observation)
}

/// A protocol core run by one simulated node: the simulator delivers messages, calls
/// `tick` at `nextDeadline`, and applies the returned effects. Implementations must be
/// deterministic functions of their inputs and their own seeded randomness.
public protocol SimProcess {
    /// What nodes send each other.
    associatedtype Message
    /// What a node reports to the experiment (through `SimEffect.observe`).
    associatedtype Observation

    /// The node is started (at time zero, or when a `.start` fault fires).
    mutating func start(now: Timestamp) -> [SimEffect<Message, Observation>]
    /// A message arrived from node `from`.
    mutating func receive(_ message: Message, from: Int, reliable: Bool, now: Timestamp) -> [SimEffect<Message, Observation>]
    /// A reliable send to `to` could not be delivered (crash or partition).
    mutating func deliveryFailed(_ message: Message, to: Int, now: Timestamp) -> [SimEffect<Message, Observation>]
    /// A reliable send to `to` could not be delivered, and why. The default ignores the
    /// reason and calls `deliveryFailed(_:to:now:)`.
    mutating func deliveryFailed(_ message: Message, to: Int, reason: SimDeliveryFailure, now: Timestamp)
        -> [SimEffect<Message, Observation>]
    /// Every timer due at `now`.
    mutating func tick(now: Timestamp) -> [SimEffect<Message, Observation>]
    /// When `tick` must next be called.
    var nextDeadline: Timestamp { get }
}

extension SimProcess {
    public mutating func deliveryFailed(_ message: Message, to: Int, reason: SimDeliveryFailure, now: Timestamp)
        -> [SimEffect<Message, Observation>]
    {
        deliveryFailed(message, to: to, now: now)
    }
}

/// Why a reliable (stream) send failed.
public enum SimDeliveryFailure: Sendable, Hashable {
    /// The receiver's process is gone but its host answers: the connection attempt is
    /// refused (TCP RST) one round trip after it starts.
    case refused
    /// No answer: a partition, a crashed host, or too many lost transmissions; reported
    /// when TCP gives up.
    case timedOut
}

/// A fault or lifecycle change injected at a point in virtual time.
public enum SimFault: Sendable, Hashable {
    /// The process stops for good (its host stays up): datagrams to it are lost, streams to
    /// it are refused one round trip after they start.
    case crash(Int)
    /// The machine stops for good: datagrams to it are lost and streams to it time out (no
    /// refusal), as after a power loss or kernel panic.
    case hostCrash(Int)
    /// The process stops running (GC pause, SIGSTOP) for `duration`: its timers and the
    /// messages it receives wait, as a socket buffer would hold them, until the pause ends.
    case pause(Int, Duration)
    /// A node not started at time zero starts (joins).
    case start(Int)
    /// Splits the nodes into groups that cannot reach each other (nodes not listed form
    /// group 0 with the first list).
    case partition([[Int]])
    /// Removes every partition.
    case heal
    /// Datagrams from the first node to the second are lost with this probability.
    case oneWayLoss(from: Int, to: Int, probability: Double)
    /// Sets the random datagram loss probability on every link.
    case loss(Double)
}
