import LocalityCore
import LocalityMembership

/// A failure-detection experiment: N members start from a converged view (every core is
/// bootstrapped with the full member list, as after a completed join), K random members
/// crash and K2 others pause at random times early in the run, and the run measures how
/// fast crashes are detected and disseminated and whether any live member is declared dead.
public struct MembershipExperiment: Sendable {
    /// Members. Default 100.
    public var nodes = 100
    /// Random datagram loss probability on every link. Default 0.
    public var loss = 0.0
    /// Members crashed. Default 1.
    public var crashes = 1
    /// Members whose host crashes (streams to them time out, never refused; never the
    /// crashed or paused ones). They count as crashes in every figure. Default 0.
    public var hostCrashes = 0
    /// Members paused (never the crashed ones). Default 0.
    public var pauses = 0
    /// Length of each pause. Default 3 s.
    public var pauseDuration: Duration = .seconds(3)
    /// Simulated time. Default 60 s.
    public var duration: Duration = .seconds(60)
    /// Faults happen uniformly in [faultStart, faultStart + faultWindow]. Default 5 s and
    /// min(60 s, duration / 4).
    public var faultStart: Duration = .seconds(5)
    /// Length of that window; nil: min(60 s, duration / 4).
    public var faultWindow: Duration?
    /// The seed of everything random in the run.
    public var seed: UInt64 = 1
    /// The SWIM settings every member runs.
    public var settings = SWIMSettings()
    /// The network model (its `loss` is overridden by `loss`).
    public var network = SimNetwork()
    /// Also measure where the time goes (first ping, spread quantiles, how each member
    /// learned a death, local health): `CrashTrace.breakdown` and `MembershipReport.health`.
    /// Default false (no tracing cost).
    public var breakdown = false

    /// Every parameter at its default.
    public init() {}

    /// Runs the experiment to the end of `duration`.
    public func run() throws -> MembershipReport {
        var random = SeededRandom(seed: seed)
        let ids = (0..<nodes).map { NodeID(name: "n\($0)", uid: random.next()) }
        let states = ids.enumerated().map { index, id in
            MemberState(id: id, address: SWIMSimNode.address(of: index), incarnation: 0, status: .alive)
        }
        var processes: [SWIMSimNode] = []
        processes.reserveCapacity(nodes)
        for index in 0..<nodes {
            var core = try SWIMCore(
                id: ids[index], address: SWIMSimNode.address(of: index), metadata: [], settings: settings,
                random: random.split(), now: .zero)
            _ = core.bootstrap(states, now: .zero)
            processes.append(SWIMSimNode(core: core))
        }
        var network = network
        network.loss = loss
        var engine = SimEngine(processes: consume processes, network: network, seed: random.next())

        let window = faultWindow ?? min(.seconds(60), duration / 4)
        var order = Array(0..<nodes)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(random.next() % UInt64(i + 1)))
        }
        let crashed = Array(order.prefix(min(crashes, nodes)))
        let paused = Array(order.dropFirst(crashed.count).prefix(max(0, min(pauses, nodes - crashed.count))))
        func faultTime() -> Timestamp { Timestamp.zero + faultStart + window.scaled(by: random.nextUnit()) }
        var crashTimes: [Int: Timestamp] = [:]
        for node in crashed {
            let time = faultTime()
            crashTimes[node] = time
            engine.schedule(.crash(node), at: time)
        }
        for node in paused { engine.schedule(.pause(node, pauseDuration), at: faultTime()) }
        let hostCrashed = Array(order.dropFirst(crashed.count + paused.count)
            .prefix(max(0, min(hostCrashes, nodes - crashed.count - paused.count))))
        for node in hostCrashed {
            let time = faultTime()
            crashTimes[node] = time
            engine.schedule(.hostCrash(node), at: time)
        }

        let tracker = DeathTracker(ids: ids, crashTimes: crashTimes)
        engine.observer = { observer, time, event in tracker.observe(observer, time, event) }
        var health: HealthSample?
        if breakdown {
            let trace = DisseminationTrace(crashTimes: crashTimes)
            tracker.trace = trace
            engine.tracer = { trace.step($0) }
            // Local health of the running members, sampled once per simulated second.
            var sample = HealthSample()
            var time = Timestamp.zero
            while time < .zero + duration {
                time = min(time + .seconds(1), .zero + duration)
                engine.run(until: time)
                for node in 0..<nodes where !engine.crashed[node] {
                    sample.add(engine.processes[node].core.localHealth)
                }
            }
            sample.stalls = engine.processes.reduce(0) { $0 + $1.core.stallsDetected }
            health = sample
        } else {
            engine.run(until: .zero + duration)
        }

        let live = (0..<nodes).filter { !engine.crashed[$0] }
        var detection: [Double] = []
        var dissemination: [Double] = []
        var notDisseminated = 0
        var undetected = 0
        var traces: [CrashTrace] = []
        for node in crashed + hostCrashed {
            let crashTime = crashTimes[node]!
            traces.append(CrashTrace(
                node: node, crashedAt: crashTime.seconds, hostCrash: engine.hostDown[node],
                firstSuspectAfter: tracker.firstSuspected[node].map { ($0 - crashTime).seconds },
                firstDeadAfter: tracker.firstDeclared[node].map { ($0 - crashTime).seconds },
                breakdown: tracker.trace?.breakdown(of: node, live: live, declaredAt: tracker.declaredAt[node])))
            if let first = tracker.firstDeclared[node] { detection.append((first - crashTime).seconds) }
            let marks = live.map { tracker.declaredAt[node]?[$0] }
            if marks.allSatisfy({ $0 != nil }), let last = marks.compactMap({ $0 }).max() {
                dissemination.append((last - crashTime).seconds)
            } else {
                notDisseminated += 1
            }
            let stillHeld = live.contains { observer in
                guard let state = engine.processes[observer].core.member(ids[node]) else { return false }
                return state.status == .alive || state.status == .suspect
            }
            if stillHeld { undetected += 1 }
        }
        let seconds = duration.seconds
        let messages = engine.stats.reduce(0) { $0 + $1.messagesSent }
        let bytes = engine.stats.reduce(0) { $0 + $1.bytesSent }
        return MembershipReport(
            nodes: nodes, seed: seed, crashed: crashed.count, hostCrashed: hostCrashed.count, paused: paused.count,
            detection: Percentiles(detection), dissemination: Percentiles(dissemination),
            undetected: undetected, notDisseminated: notDisseminated,
            falsePositives: tracker.falsePositives.count, falseSuspicions: tracker.falseSuspicions,
            messagesPerNodePerSecond: Double(messages) / Double(nodes) / seconds,
            bytesPerNodePerSecond: Double(bytes) / Double(nodes) / seconds,
            events: engine.eventsProcessed, crashes: traces, health: health)
    }
}

/// Who declared whom dead, and when.
final class DeathTracker {
    let index: [NodeID: Int]
    let crashTimes: [Int: Timestamp]
    var firstDeclared: [Int: Timestamp] = [:]
    var firstSuspected: [Int: Timestamp] = [:]
    var declaredAt: [Int: [Int: Timestamp]] = [:]
    var falsePositives: Set<Int> = []
    var falseSuspicions = 0
    var trace: DisseminationTrace?

    init(ids: [NodeID], crashTimes: [Int: Timestamp]) {
        var index: [NodeID: Int] = [:]
        for (i, id) in ids.enumerated() { index[id] = i }
        self.index = index
        self.crashTimes = crashTimes
    }

    func observe(_ observer: Int, _ time: Timestamp, _ event: MembershipEvent) {
        guard case let .statusChanged(state, _) = event, let subject = index[state.id] else { return }
        let crashedBefore = crashTimes[subject].map { $0 <= time } ?? false
        switch state.status {
        case .dead:
            guard crashedBefore else {
                falsePositives.insert(subject)
                return
            }
            if firstDeclared[subject] == nil { firstDeclared[subject] = time }
            if declaredAt[subject, default: [:]][observer] == nil {
                declaredAt[subject, default: [:]][observer] = time
                trace?.declared(subject, by: observer)
            }
        case .suspect:
            if !crashedBefore { falseSuspicions += 1 } else if firstSuspected[subject] == nil { firstSuspected[subject] = time }
        case .alive, .left:
            break
        }
    }
}

/// p50 / p99 / max of a sample (nearest rank), zero for an empty sample.
public struct Percentiles: Sendable, Hashable {
    /// The median (nearest rank).
    public var p50: Double
    /// The 99th percentile (nearest rank).
    public var p99: Double
    /// The largest value.
    public var max: Double
    /// How many values the sample held.
    public var count: Int

    /// The percentiles of `values` (in any order).
    public init(_ values: [Double]) {
        let sorted = values.sorted()
        count = sorted.count
        func rank(_ q: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let index = Int((q * Double(sorted.count)).rounded(.up)) - 1
            return sorted[Swift.max(0, Swift.min(sorted.count - 1, index))]
        }
        p50 = rank(0.5)
        p99 = rank(0.99)
        max = sorted.last ?? 0
    }
}

/// The figures of one membership experiment (definitions in docs/membership.md).
public struct MembershipReport: Sendable, Hashable {
    /// Members simulated.
    public var nodes: Int
    /// The run's seed.
    public var seed: UInt64
    /// Members whose process crashed (streams to them refused).
    public var crashed: Int
    /// Members whose host crashed (streams to them time out).
    public var hostCrashed: Int
    /// Members paused.
    public var paused: Int
    /// Crash → first live member declares it dead.
    public var detection: Percentiles
    /// Crash → every live member has declared it dead (crashes not disseminated excluded).
    public var dissemination: Percentiles
    /// Crashed members some live member still holds alive or suspect at the end.
    public var undetected: Int
    /// Crashed members not declared dead by every live member by the end.
    public var notDisseminated: Int
    /// Live members ever declared dead by anyone.
    public var falsePositives: Int
    /// `suspect` events about live members (informational).
    public var falseSuspicions: Int
    /// Datagrams and streams sent, per member per simulated second.
    public var messagesPerNodePerSecond: Double
    /// Bytes sent (conservative size estimate, 64-byte header), per member per simulated second.
    public var bytesPerNodePerSecond: Double
    /// Simulator events processed.
    public var events: Int
    /// Per crash: when it happened and how long until the first suspicion and first death.
    public var crashes: [CrashTrace]
    /// Local health scores of running members, sampled every second (with `breakdown` only).
    public var health: HealthSample?
}

/// Lifeguard local health scores sampled over a run: how often members probed slowed down.
public struct HealthSample: Sendable, Hashable {
    /// Scores sampled.
    public var samples = 0
    /// Sum of the sampled scores.
    public var total = 0
    /// Samples with a score above 0.
    public var nonZero = 0
    /// Highest score sampled.
    public var maximum = 0
    /// Stalls the cores detected over the run (each raised a local health score by one).
    public var stalls = 0

    /// Mean sampled score (0 without samples).
    public var mean: Double { samples == 0 ? 0 : Double(total) / Double(samples) }
    /// Fraction of samples with a score above 0 (probe period and timeout scaled up).
    public var nonZeroFraction: Double { samples == 0 ? 0 : Double(nonZero) / Double(samples) }

    mutating func add(_ score: Int) {
        samples += 1
        total += score
        if score > 0 { nonZero += 1 }
        maximum = max(maximum, score)
    }
}

/// The timeline of one crash, in seconds.
public struct CrashTrace: Sendable, Hashable {
    /// The crashed member's index.
    public var node: Int
    /// When it crashed, in seconds of virtual time.
    public var crashedAt: Double
    /// The host crashed (no refused connections), not only the process.
    public var hostCrash: Bool
    /// Seconds from the crash to the first `suspect` about it (nil: never).
    public var firstSuspectAfter: Double?
    /// Seconds from the crash to the first `dead` about it (nil: never).
    public var firstDeadAfter: Double?
    /// Where the time went (with `MembershipExperiment.breakdown` only).
    public var breakdown: CrashBreakdown?
}
