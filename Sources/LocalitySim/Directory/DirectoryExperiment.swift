import LocalityCore
import LocalityPlacement

/// The directory experiment behind `locality sim directory`: N nodes run the production
/// `ActivationDirectory` in the simulator; every key is activated once (warm-up); members
/// crash and join at random while traffic continues (churn); churn stops and views settle
/// (quiet); every key is activated again from a random live node (check). Then it counts
/// keys hosted by two live nodes at once and the directory hops each check lookup took.
public struct DirectoryExperiment {
    /// What one run measured.
    public struct Result: Sendable {
        /// Nodes started and not crashed at the end.
        public var nodesAtEnd = 0
        /// Members crashed during churn.
        public var crashes = 0
        /// Members that joined during churn.
        public var joins = 0
        /// Membership views in force over the run (the initial one plus one per change).
        public var views = 0
        /// Keys with activations on two or more live nodes after the check phase.
        public var duplicateActivationsAfterConvergence = 0
        /// The same count at the end of the quiet period, before the check phase.
        public var duplicateActivationsBeforeCheck = 0
        /// Keys with no live activation after the check phase.
        public var missingActivations = 0
        /// Keys whose single activation the partition owner does not record after the check.
        public var directoryMismatches = 0
        /// Lookup hops of completed check-phase requests: percentiles and maximum.
        public var lookupHopsP50 = 0
        /// The 99th percentile of those hops.
        public var lookupHopsP99 = 0
        /// The most hops any of those requests took.
        public var lookupHopsMax = 0
        /// Lookup hops p99 of requests made during churn.
        public var churnLookupHopsP99 = 0
        /// Every node's counters, summed.
        public var stats = DirectorySimStats()
        /// Messages sent by all nodes.
        public var messages = 0
        /// Bytes sent by all nodes (estimated encoded sizes).
        public var bytes = 0
        /// Simulator events processed.
        public var events = 0
        /// Simulated time the run covered, in seconds.
        public var virtualSeconds = 0.0
    }

    /// The run's parameters, seed included.
    public let settings: DirectorySimSettings

    /// An experiment with `settings`; nothing runs until `run()`.
    public init(settings: DirectorySimSettings) {
        self.settings = settings
    }

    /// Runs the experiment; deterministic for a given `settings` (seed included).
    public func run() -> Result {
        var random = SeededRandom(seed: settings.seed)
        let plan = ChurnPlan(settings: settings, random: &random)
        let total = plan.identities.count
        var indexOf: [NodeID: Int] = [:]
        for (index, identity) in plan.identities.enumerated() { indexOf[identity] = index }

        let workloads = makeWorkloads(plan: plan, slots: total, random: &random)
        let initial = Array(plan.identities.prefix(settings.nodes))
        let initialRing = HashRing(members: initial, settings: settings.directory.ring)
        let emptyRing = HashRing(members: [], settings: settings.directory.ring)
        var processes: [DirectorySimProcess] = []
        processes.reserveCapacity(total + 1)
        for slot in 0..<total {
            let isInitial = slot < settings.nodes
            processes.append(DirectorySimProcess(node: DirectorySimNode(
                id: plan.identities[slot], ring: isInitial ? initialRing : emptyRing, viewVersion: isInitial ? 0 : -1,
                indexOf: indexOf, workload: workloads[slot], settings: settings, random: random.split())))
        }
        let schedule = MembershipSchedule(
            initial: initial, changes: plan.changes.map { ($0.time, $0.members, $0.recipients) },
            ringSettings: settings.directory.ring, delayMin: settings.viewDelayMin, delayMax: settings.viewDelayMax, random: &random)
        processes.append(DirectorySimProcess(schedule: schedule))

        var engine = SimEngine(
            processes: processes, startedAtZero: Set(0..<settings.nodes).union([total]),
            network: SimNetwork(), seed: random.next())
        for change in plan.changes {
            switch change.kind {
            case .crash(let slot): engine.schedule(.crash(slot), at: change.time)
            case .join(let slot): engine.schedule(.start(slot), at: change.time)
            }
        }

        var result = Result()
        result.crashes = plan.changes.filter { if case .crash = $0.kind { true } else { false } }.count
        result.joins = plan.changes.count - result.crashes
        result.views = plan.changes.count + 1
        engine.run(until: plan.checkStart)
        result.duplicateActivationsBeforeCheck = Self.activationCounts(engine, keys: settings.keys).duplicates
        engine.run(until: plan.end)

        let counts = Self.activationCounts(engine, keys: settings.keys)
        result.duplicateActivationsAfterConvergence = counts.duplicates
        result.missingActivations = counts.missing
        result.directoryMismatches = Self.directoryMismatches(engine, finalMembers: plan.finalMembers, keys: settings.keys)
        for slot in 0..<total where engine.started[slot] && !engine.crashed[slot] { result.nodesAtEnd += 1 }
        for slot in 0...total {
            if let node = engine.processes[slot].node { result.stats.add(node.stats) }
            result.messages += engine.stats[slot].messagesSent
            result.bytes += engine.stats[slot].bytesSent
        }
        let check = result.stats.lookupHops[DirectorySimPhase.check.rawValue]
        result.lookupHopsP50 = Self.percentile(check, 0.50)
        result.lookupHopsP99 = Self.percentile(check, 0.99)
        result.lookupHopsMax = check.lastIndex { $0 > 0 } ?? 0
        result.churnLookupHopsP99 = Self.percentile(result.stats.lookupHops[DirectorySimPhase.churn.rawValue], 0.99)
        result.events = engine.eventsProcessed
        result.virtualSeconds = plan.end.seconds
        return result
    }

    /// Warm-up, churn traffic and check requests, per node slot, sorted by time.
    func makeWorkloads(plan: ChurnPlan, slots: Int, random: inout SeededRandom) -> [[DirectoryWorkItem]] {
        var workloads = [[DirectoryWorkItem]](repeating: [], count: slots)
        func uniform(_ start: Timestamp, _ length: Duration) -> Int64 {
            start.nanoseconds + Int64(random.nextUnit() * Double(max(1, length.nanoseconds)))
        }
        for key in 0..<settings.keys {
            let node = Int(random.next() % UInt64(settings.nodes))
            workloads[node].append(DirectoryWorkItem(time: uniform(.zero, settings.warmup), key: Int32(key), phase: .warmup))
        }
        let churnRequests = Int(Double(settings.keys) * settings.churnTrafficFraction)
        for _ in 0..<churnRequests {
            let node = Int(random.next() % UInt64(settings.nodes))
            let key = Int32(random.next() % UInt64(settings.keys))
            workloads[node].append(DirectoryWorkItem(time: uniform(plan.churnStart, settings.churnDuration), key: key, phase: .churn))
        }
        let live = plan.finalSlots
        for key in 0..<settings.keys {
            let node = live[Int(random.next() % UInt64(live.count))]
            workloads[node].append(DirectoryWorkItem(time: uniform(plan.checkStart, settings.checkDuration), key: Int32(key), phase: .check))
        }
        for slot in 0..<slots { workloads[slot].sort { $0.time < $1.time } }
        return workloads
    }

    /// Keys hosted on two or more live nodes, and keys hosted nowhere.
    static func activationCounts(_ engine: SimEngine<DirectorySimProcess>, keys: Int) -> (duplicates: Int, missing: Int) {
        var hosts = [UInt8](repeating: 0, count: keys)
        for slot in engine.processes.indices where engine.started[slot] && !engine.crashed[slot] {
            guard let node = engine.processes[slot].node else { continue }
            for key in node.activations.keys {
                guard let number = Int(key.dropFirst(4)), number < keys else { continue }
                hosts[number] = hosts[number] &+ (hosts[number] < 255 ? 1 : 0)
            }
        }
        return (hosts.count { $0 >= 2 }, hosts.count { $0 == 0 })
    }

    /// Keys hosted by exactly one live node whose partition owner (in the final view) does
    /// not record that activation.
    static func directoryMismatches(_ engine: SimEngine<DirectorySimProcess>, finalMembers: [NodeID], keys: Int) -> Int {
        let ring = HashRing(members: finalMembers, settings: DirectorySettings().ring)
        var slotOf: [NodeID: Int] = [:]
        var hosted: [String: ActivationAddress] = [:]
        var duplicated = Set<String>()
        for slot in engine.processes.indices where engine.started[slot] && !engine.crashed[slot] {
            guard let node = engine.processes[slot].node else { continue }
            slotOf[node.id] = slot
            for (key, epoch) in node.activations {
                if hosted.updateValue(ActivationAddress(node: node.id, epoch: epoch), forKey: key) != nil { duplicated.insert(key) }
            }
        }
        var mismatches = 0
        for (key, address) in hosted where !duplicated.contains(key) {
            guard let owner = ring.owner(of: key), let slot = slotOf[owner],
                  engine.processes[slot].node?.directory.entry(for: key) == address else {
                mismatches += 1
                continue
            }
        }
        return mismatches
    }

    static func percentile(_ histogram: [Int], _ quantile: Double) -> Int {
        let total = histogram.reduce(0, +)
        guard total > 0 else { return 0 }
        let rank = Int((quantile * Double(total)).rounded(.up))
        var seen = 0
        for (hops, count) in histogram.enumerated() {
            seen += count
            if seen >= rank { return hops }
        }
        return histogram.count - 1
    }
}
