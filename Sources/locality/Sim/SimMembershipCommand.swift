import ArgumentParser
import Foundation
import LocalityCore
import LocalityMembership
import LocalitySim

/// `locality sim membership`: SWIM + Lifeguard in the deterministic simulator; prints
/// one JSON object with detection, dissemination, false positives and traffic.
struct SimMembershipCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "membership",
        abstract: "Simulate SWIM + Lifeguard failure detection with crashes, pauses and loss."
    )

    @Option(help: "Members (started from a converged view).") var nodes = 100
    @Option(help: "Random datagram loss probability, 0...1.") var loss = 0.0
    @Option(help: "Members crashed at random times early in the run.") var crash = 1
    @Option(name: .customLong("host-crash"), help: "Other members whose host crashes (streams time out, never refused).")
    var hostCrash = 0
    @Option(help: "Members paused (GC-like) at random times early in the run.") var pause = 0
    @Option(name: .customLong("pause-duration"), help: "Seconds each pause lasts.") var pauseDuration = 3.0
    @Option(help: "Simulated seconds.") var duration = 60.0
    @Option(help: "Seed of every random choice.") var seed: UInt64 = 1
    @Option(name: .customLong("probe-interval"), help: "Probe interval in seconds.") var probeInterval: Double?
    @Option(name: .customLong("suspicion-mult"), help: "Override SWIMSettings.suspicionMult.") var suspicionMult: Double?
    @Option(name: .customLong("suspicion-max-mult"), help: "Override SWIMSettings.suspicionMaxTimeoutMult.")
    var suspicionMaxMult: Double?
    @Option(help: "Override SWIMSettings.suspicionConfirmations (K).") var confirmations: Int?
    @Option(name: .customLong("suspicion-floor"), help: "Override SWIMSettings.suspicionFloor, in seconds.")
    var suspicionFloor: Double?
    @Option(name: .customLong("retransmit-mult"), help: "Override SWIMSettings.retransmitMult.") var retransmitMult: Int?
    @Option(name: .customLong("indirect-checks"), help: "Override SWIMSettings.indirectChecks.") var indirectChecks: Int?
    @Option(name: .customLong("refused-means-dead"), help: "Override SWIMSettings.refusedConnectionMeansDead.")
    var refusedMeansDead: Bool?
    @Flag(help: "Also report where the time goes: first ping, spread quantiles, how members learned, local health.")
    var breakdown = false
    @Flag(help: "Print JSON (the only output format).") var json = false

    func validate() throws {
        guard nodes >= 2, nodes <= 50_000 else { throw ValidationError("--nodes must be in 2...50000") }
        guard (0...1).contains(loss) else { throw ValidationError("--loss must be in 0...1") }
        guard crash >= 0, pause >= 0, hostCrash >= 0, crash + pause + hostCrash <= nodes else {
            throw ValidationError("--crash, --host-crash and --pause must be >= 0 and together at most --nodes")
        }
        guard duration > 0, pauseDuration >= 0 else { throw ValidationError("--duration must be > 0") }
    }

    func run() throws {
        var experiment = MembershipExperiment()
        experiment.nodes = nodes
        experiment.loss = loss
        experiment.crashes = crash
        experiment.pauses = pause
        experiment.hostCrashes = hostCrash
        experiment.pauseDuration = .milliseconds(Int64(pauseDuration * 1000))
        experiment.duration = .milliseconds(Int64(duration * 1000))
        experiment.seed = seed
        experiment.breakdown = breakdown
        if let probeInterval { experiment.settings.probeInterval = .milliseconds(Int64(probeInterval * 1000)) }
        if let suspicionMult { experiment.settings.suspicionMult = suspicionMult }
        if let suspicionMaxMult { experiment.settings.suspicionMaxTimeoutMult = suspicionMaxMult }
        if let confirmations { experiment.settings.suspicionConfirmations = confirmations }
        if let suspicionFloor { experiment.settings.suspicionFloor = .milliseconds(Int64(suspicionFloor * 1000)) }
        if let retransmitMult { experiment.settings.retransmitMult = retransmitMult }
        if let indirectChecks { experiment.settings.indirectChecks = indirectChecks }
        if let refusedMeansDead { experiment.settings.refusedConnectionMeansDead = refusedMeansDead }

        let clock = ContinuousClock()
        let start = clock.now
        let report = try experiment.run()
        let wall = (clock.now - start).seconds

        func percentiles(_ p: Percentiles) -> [String: Any] {
            ["p50": round3(p.p50), "p99": round3(p.p99), "max": round3(p.max), "count": p.count]
        }
        let settings = experiment.settings
        var object: [String: Any] = [
            "nodes": report.nodes,
            "seed": report.seed,
            "loss": loss,
            "duration_s": duration,
            "crashed": report.crashed,
            "host_crashed": report.hostCrashed,
            "paused": report.paused,
            "pause_duration_s": pauseDuration,
            "detection_s": percentiles(report.detection),
            "dissemination_s": percentiles(report.dissemination),
            "undetected": report.undetected,
            "not_disseminated": report.notDisseminated,
            "false_positives": report.falsePositives,
            "false_suspicions": report.falseSuspicions,
            "msgs_per_node_per_s": round3(report.messagesPerNodePerSecond),
            "bytes_per_node_per_s": round3(report.bytesPerNodePerSecond),
            "sim_events": report.events,
            "crashes": report.crashes.map { trace -> [String: Any] in
                var fields: [String: Any] = [
                    "node": trace.node, "at_s": round3(trace.crashedAt), "host": trace.hostCrash,
                    "first_suspect_after_s": trace.firstSuspectAfter.map(round3) ?? -1,
                    "first_dead_after_s": trace.firstDeadAfter.map(round3) ?? -1,
                ]
                if let b = trace.breakdown { fields["breakdown"] = breakdownObject(b) }
                return fields
            },
            "settings": [
                "probe_interval_s": settings.probeInterval.seconds,
                "suspicion_mult": settings.suspicionMult,
                "suspicion_max_timeout_mult": settings.suspicionMaxTimeoutMult,
                "suspicion_floor_s": settings.suspicionFloor.seconds,
                "suspicion_confirmations": settings.expectedSuspicionConfirmations,
                "retransmit_mult": settings.retransmitMult,
                "indirect_checks": settings.indirectChecks,
                "refused_connection_means_dead": settings.refusedConnectionMeansDead,
            ],
            "wall_s": round3(wall),
        ]
        if let health = report.health {
            object["local_health"] = [
                "mean": round3(health.mean), "non_zero_fraction": round3(health.nonZeroFraction),
                "max": health.maximum, "samples": health.samples, "stalls": health.stalls,
            ]
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    private func breakdownObject(_ b: CrashBreakdown) -> [String: Any] {
        [
            "first_ping_after_s": b.firstPingAfter.map(round3) ?? -1,
            "known_50_after_s": b.known50After.map(round3) ?? -1,
            "known_90_after_s": b.known90After.map(round3) ?? -1,
            "known_99_after_s": b.known99After.map(round3) ?? -1,
            "known_100_after_s": b.known100After.map(round3) ?? -1,
            "last_learned_via": b.lastLearnedVia?.rawValue ?? "none",
            "learned_via": Dictionary(uniqueKeysWithValues: b.learnedVia.map { ($0.key.rawValue, $0.value) }),
        ]
    }

    private func round3(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
