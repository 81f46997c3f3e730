import HeapModule
import LocalityCore

/// A deterministic discrete-event simulator in virtual time (FoundationDB-style): N nodes
/// run the same protocol core `P`, exchange messages over a `SimNetwork`, and suffer the
/// faults of a schedule. Events are ordered by (time, sequence), all randomness comes from
/// one seed, so a run replays exactly.
///
/// Bounds: the event queue holds at most `maxPendingEvents`; over it new messages are
/// dropped and counted in `droppedForOverload` (an overloaded simulated network).
public struct SimEngine<P: SimProcess> {
    /// Per node traffic and health counters.
    public struct NodeStats: Sendable {
        /// Messages this node sent (datagrams and streams).
        public var messagesSent = 0
        /// Bytes this node sent, as the processes estimated them.
        public var bytesSent = 0
    }

    enum Payload {
        case deliver(from: Int, to: Int, message: P.Message, reliable: Bool)
        case deliveryFailed(from: Int, to: Int, message: P.Message, reason: SimDeliveryFailure)
        case timer(node: Int, generation: UInt64)
        case fault(SimFault)
    }

    struct Key: Comparable {
        var time: Int64
        var sequence: UInt64
        var slot: Int32
        static func < (lhs: Key, rhs: Key) -> Bool { (lhs.time, lhs.sequence) < (rhs.time, rhs.sequence) }
        static func == (lhs: Key, rhs: Key) -> Bool { lhs.sequence == rhs.sequence }
    }

    /// The simulated processes; node i is `processes[i]`.
    public private(set) var processes: [P]
    /// The virtual time of the event being handled (the end time after `run(until:)`).
    public private(set) var now: Timestamp = .zero
    /// Traffic counters, per node.
    public private(set) var stats: [NodeStats]
    /// Whether node i has crashed (process or host).
    public private(set) var crashed: [Bool]
    /// Crashed with their host (`.hostCrash`): streams to them time out instead of being refused.
    public private(set) var hostDown: [Bool]
    /// Whether node i has started.
    public private(set) var started: [Bool]
    /// Messages dropped because the event queue held `maxPendingEvents`.
    public private(set) var droppedForOverload = 0
    /// Events handled so far.
    public private(set) var eventsProcessed = 0
    /// The network model; faults (partitions, loss) change it during the run.
    public var network: SimNetwork
    /// Most events queued at once; more new messages are dropped.
    public let maxPendingEvents: Int
    /// Called for every `.observe` effect with (node, time, observation).
    public var observer: (Int, Timestamp, P.Observation) -> Void = { _, _, _ in }
    /// When set, called with every step the engine takes (diagnostics: who sent what, which
    /// delivery or timer caused an observation). Nil by default: no cost.
    public var tracer: ((SimStep<P.Message>) -> Void)?

    private var queue = Heap<Key>()
    private var payloads: [Payload?] = []
    private var freePayloads: [Int32] = []
    private var sequence: UInt64 = 0
    private var random: SeededRandom
    private var pausedUntil: [Int64]
    private var timerGeneration: [UInt64]
    private var scheduledDeadline: [Int64]

    /// `processes[i]` is node i; nodes in `startedAtZero` start at time zero, the others
    /// wait for a `.start(i)` fault.
    public init(processes: [P], startedAtZero: Set<Int>? = nil, network: SimNetwork, seed: UInt64,
                maxPendingEvents: Int = 50_000_000) {
        self.processes = processes
        self.network = network
        self.random = SeededRandom(seed: seed)
        self.maxPendingEvents = maxPendingEvents
        let n = processes.count
        stats = Array(repeating: NodeStats(), count: n)
        crashed = Array(repeating: false, count: n)
        hostDown = Array(repeating: false, count: n)
        started = Array(repeating: false, count: n)
        pausedUntil = Array(repeating: .min, count: n)
        timerGeneration = Array(repeating: 0, count: n)
        scheduledDeadline = Array(repeating: .max, count: n)
        for i in 0..<n where startedAtZero?.contains(i) ?? true {
            push(.fault(.start(i)), at: 0)
        }
    }

    /// Schedules a fault at `time`.
    public mutating func schedule(_ fault: SimFault, at time: Timestamp) {
        push(.fault(fault), at: time.nanoseconds)
    }

    /// Runs every event up to and including `end`.
    public mutating func run(until end: Timestamp) {
        while let key = queue.min, key.time <= end.nanoseconds {
            _ = queue.removeMin()
            let payload = payloads[Int(key.slot)]!
            payloads[Int(key.slot)] = nil
            freePayloads.append(key.slot)
            now = Timestamp(nanoseconds: key.time)
            eventsProcessed += 1
            handle(payload)
        }
        now = end
    }

    /// Whether node `node` is paused at `now`.
    public func isPaused(_ node: Int) -> Bool { pausedUntil[node] > now.nanoseconds }

    private mutating func handle(_ payload: Payload) {
        switch payload {
        case let .fault(fault):
            apply(fault)
        case let .timer(node, generation):
            guard !crashed[node], generation == timerGeneration[node] else { return }
            if pausedUntil[node] > now.nanoseconds {
                push(payload, at: pausedUntil[node])
                return
            }
            scheduledDeadline[node] = .max
            tracer?(.tick(node: node, time: now))
            let effects = processes[node].tick(now: now)
            perform(effects, by: node)
            reschedule(node, afterTick: true)
        case let .deliver(from, to, message, reliable):
            guard !crashed[to], started[to] else {
                // Crashed after the stream started: the host resets it (one round trip), or,
                // when the host is gone too, TCP gives up.
                if reliable, !crashed[from] {
                    if hostDown[to] {
                        push(.deliveryFailed(from: from, to: to, message: message, reason: .timedOut),
                             at: now.nanoseconds + streamGiveUp.nanoseconds)
                    } else {
                        push(.deliveryFailed(from: from, to: to, message: message, reason: .refused),
                             at: now.nanoseconds + 2 * network.baseLatency.nanoseconds)
                    }
                }
                return
            }
            if pausedUntil[to] > now.nanoseconds {
                push(payload, at: pausedUntil[to])
                return
            }
            tracer?(.deliver(from: from, to: to, message: message, reliable: reliable, time: now))
            let effects = processes[to].receive(message, from: from, reliable: reliable, now: now)
            perform(effects, by: to)
            reschedule(to, afterTick: false)
        case let .deliveryFailed(from, to, message, reason):
            guard !crashed[from] else { return }
            if pausedUntil[from] > now.nanoseconds {
                push(payload, at: pausedUntil[from])
                return
            }
            tracer?(.deliveryFailed(from: from, to: to, reason: reason, time: now))
            let effects = processes[from].deliveryFailed(message, to: to, reason: reason, now: now)
            perform(effects, by: from)
            reschedule(from, afterTick: false)
        }
    }

    private mutating func apply(_ fault: SimFault) {
        switch fault {
        case let .crash(node):
            crashed[node] = true
        case let .hostCrash(node):
            crashed[node] = true
            hostDown[node] = true
        case let .pause(node, duration):
            pausedUntil[node] = max(pausedUntil[node], now.nanoseconds + duration.nanoseconds)
        case let .start(node):
            guard !started[node], !crashed[node] else { return }
            started[node] = true
            let effects = processes[node].start(now: now)
            perform(effects, by: node)
            reschedule(node, afterTick: false)
        case let .partition(groups):
            var group = Array(repeating: 0, count: processes.count)
            for (index, members) in groups.enumerated() {
                for member in members where member < group.count { group[member] = index }
            }
            network.group = group
        case .heal:
            network.group = []
        case let .oneWayLoss(from, to, probability):
            network.oneWayLoss[SimNetwork.Link(from: from, to: to)] = probability
        case let .loss(probability):
            network.loss = probability
        }
    }

    private mutating func perform(_ effects: [SimEffect<P.Message, P.Observation>], by node: Int) {
        for effect in effects {
            switch effect {
            case let .observe(observation):
                observer(node, now, observation)
            case let .send(message, to, reliable, bytes):
                tracer?(.send(from: node, to: to, message: message, reliable: reliable, time: now))
                stats[node].messagesSent += 1
                stats[node].bytesSent += bytes
                guard to >= 0, to < processes.count else { continue }
                if reliable {
                    if crashed[to], !hostDown[to], network.canReach(node, to) {
                        // Nothing listens, the host answers the SYN with a RST: refused after
                        // one round trip.
                        let roundTrip = network.latency(&random) + network.latency(&random)
                        push(.deliveryFailed(from: node, to: to, message: message, reason: .refused),
                             at: now.nanoseconds + roundTrip.nanoseconds)
                    } else if let delay = network.streamDelay(node, to, random: &random) {
                        push(.deliver(from: node, to: to, message: message, reliable: true), at: now.nanoseconds + delay.nanoseconds)
                    } else {
                        push(.deliveryFailed(from: node, to: to, message: message, reason: .timedOut),
                             at: now.nanoseconds + streamGiveUp.nanoseconds)
                    }
                } else if let delay = network.datagramDelay(node, to, random: &random) {
                    push(.deliver(from: node, to: to, message: message, reliable: false), at: now.nanoseconds + delay.nanoseconds)
                }
            }
        }
    }

    /// When TCP gives up on an unanswered stream: the sum of its doubling retransmission timeouts.
    private var streamGiveUp: Duration {
        network.streamRetransmitTimeout * ((1 << network.streamMaxRetransmits) - 1)
    }

    private mutating func reschedule(_ node: Int, afterTick: Bool) {
        var deadline = processes[node].nextDeadline.nanoseconds
        // A core that asks to be ticked again at the same instant would spin: step time.
        if afterTick, deadline <= now.nanoseconds { deadline = now.nanoseconds + 1_000 }
        deadline = max(deadline, now.nanoseconds)
        guard deadline != scheduledDeadline[node] else { return }
        scheduledDeadline[node] = deadline
        timerGeneration[node] &+= 1
        push(.timer(node: node, generation: timerGeneration[node]), at: deadline)
    }

    private mutating func push(_ payload: Payload, at time: Int64) {
        if case .deliver = payload, queue.count >= maxPendingEvents {
            droppedForOverload += 1
            return
        }
        let slot: Int32
        if let free = freePayloads.popLast() {
            slot = free
            payloads[Int(free)] = payload
        } else {
            slot = Int32(payloads.count)
            payloads.append(payload)
        }
        sequence &+= 1
        queue.insert(Key(time: time, sequence: sequence, slot: slot))
    }
}

/// One step of a `SimEngine`, reported to its `tracer` (diagnostics only).
public enum SimStep<Message> {
    /// A node's timer fired.
    case tick(node: Int, time: Timestamp)
    /// A message is about to be handed to `to`.
    case deliver(from: Int, to: Int, message: Message, reliable: Bool, time: Timestamp)
    /// A stream send of `from` failed.
    case deliveryFailed(from: Int, to: Int, reason: SimDeliveryFailure, time: Timestamp)
    /// `from` sends a message (before the network decides its fate).
    case send(from: Int, to: Int, message: Message, reliable: Bool, time: Timestamp)
}
