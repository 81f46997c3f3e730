import ArgumentParser
import Foundation
import LocalityCore
import LocalitySim

/// `locality sim directory`: the activation directory under crash/join churn in the
/// deterministic simulator; prints one JSON object.
struct SimDirectoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "directory",
        abstract: "Simulate the activation directory under crash/join churn; count duplicate activations."
    )

    @Option(help: "Members at time zero.") var nodes = 100
    @Option(help: "Keys (key-0 … key-(K-1)), each activated in warm-up and again after convergence.") var keys = 1_000_000
    @Option(help: "Membership changes (crash or join) per simulated second during churn.") var churn = 1.0
    @Option(name: .customLong("churn-seconds"), help: "Length of the churn window in simulated seconds.") var churnSeconds = 10.0
    @Option(name: .customLong("churn-traffic"), help: "Keys activated during churn, as a fraction of --keys.") var churnTraffic = 0.2
    @Option(name: .customLong("view-delay-max"), help: "Maximum seconds for a membership change to reach a node.")
    var viewDelayMax = 1.0
    @Option(help: "Seed of every random choice.") var seed: UInt64 = 1
    @Flag(help: "Print JSON (the only output format).") var json = false

    func validate() throws {
        guard nodes >= 2, nodes <= 10_000 else { throw ValidationError("--nodes must be in 2...10000") }
        guard keys >= 1, keys <= 20_000_000 else { throw ValidationError("--keys must be in 1...20000000") }
        guard churn >= 0, churnSeconds >= 0, churnTraffic >= 0 else { throw ValidationError("--churn, --churn-seconds, --churn-traffic must be >= 0") }
        guard viewDelayMax >= 0.05 else { throw ValidationError("--view-delay-max must be >= 0.05") }
    }

    func run() throws {
        var settings = DirectorySimSettings()
        settings.nodes = nodes
        settings.keys = keys
        settings.churnRate = churn
        settings.churnDuration = .milliseconds(Int64(churnSeconds * 1000))
        settings.churnTrafficFraction = churnTraffic
        settings.viewDelayMax = .milliseconds(Int64(viewDelayMax * 1000))
        settings.seed = seed

        let clock = ContinuousClock()
        let start = clock.now
        let result = DirectoryExperiment(settings: settings).run()
        let elapsed = clock.now - start
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let stats = result.stats

        let output: [String: Any] = [
            "nodes": nodes,
            "keys": keys,
            "churn_per_s": churn,
            "churn_seconds": churnSeconds,
            "seed": seed,
            "crashes": result.crashes,
            "joins": result.joins,
            "views": result.views,
            "nodes_at_end": result.nodesAtEnd,
            "duplicate_activations_after_convergence": result.duplicateActivationsAfterConvergence,
            "duplicate_activations_before_check": result.duplicateActivationsBeforeCheck,
            "missing_activations": result.missingActivations,
            "directory_mismatches": result.directoryMismatches,
            "lookup_hops_p50": result.lookupHopsP50,
            "lookup_hops_p99": result.lookupHopsP99,
            "lookup_hops_max": result.lookupHopsMax,
            "churn_lookup_hops_p99": result.churnLookupHopsP99,
            "check_requests_completed": stats.completed[DirectorySimPhase.check.rawValue],
            "requests_completed": stats.completed.reduce(0, +),
            "requests_abandoned": stats.abandoned,
            "requests_rejected_overload": stats.rejectedOverload,
            "not_owner_replies": stats.notOwnerReplies,
            "stale_addresses": stats.staleAddresses,
            "cache_hits": stats.cacheHits,
            "activations_created": stats.activationsCreated,
            "duplicates_deactivated": stats.duplicatesDeactivated,
            "re_registrations": stats.reRegistrations,
            "hand_off_entries": stats.handOffEntriesSent,
            "hand_offs_lost": stats.handOffsLost,
            "messages": result.messages,
            "bytes": result.bytes,
            "events": result.events,
            "virtual_s": result.virtualSeconds,
            "wall_s": (wall * 1000).rounded() / 1000,
        ]
        let data = try JSONSerialization.data(withJSONObject: output, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
