import Foundation
import LocalityLauncher
import NIOCore
import NIOHTTP1

/// Runs one setup of `bench gateway`: starts its target processes
/// (`GatewayBenchTargets.swift`), waits until they answer, warms up, measures with wrk
/// (one wrk at node 1, or one per owner for `cluster3_direct`: `GatewayDirectLoad.swift`),
/// collects the targets' own figures and stops them, on every path (an error included).
struct GatewayBenchRunner {
    /// This `locality` binary: the bare route runs exactly this build.
    var executable: String
    /// The binary whose `locality node` the node setups run (this one unless
    /// `--node-binary` names another build, e.g. an older revision to compare with).
    var nodeExecutable: String
    /// The run's temporary directory (key file, Lua scripts, logs, SQLite files).
    var directory: String
    /// `taskset` when the targets are pinned to CPU 0.
    var tasksetPath: String?
    var load: WrkLoad
    var duration: Int
    var log: @Sendable (String) -> Void

    var keyFile: String { directory + "/cluster.key" }

    func writeKeyFile() throws {
        var random = SystemRandomNumberGenerator()
        let hex = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined()
        try (hex + "\n").write(toFile: keyFile, atomically: true, encoding: .utf8)
    }

    func nodeName(_ index: Int) -> String { "bench-gw\(index + 1)" }

    struct Measured {
        var result: GatewaySetupResult
        var cluster: ClusterFigures?
    }

    func measure(_ setup: GatewaySetup) async throws -> Measured {
        let targets = GatewayBenchTargets()
        do {
            try await start(setup, targets: targets)
            var measured = setup.callsOwners
                ? try await measureDirect(setup, targets: targets)
                : try await measureThroughNode1(setup, targets: targets)
            measured.result.exits = await targets.stopAll()
            return measured
        } catch {
            let logs = targets.children.map { "--- \($0.label), last lines of its output:\n\($0.logTail())" }
            _ = await targets.stopAll()
            throw GatewayBenchFailure(([ "\(setup.rawValue): \(error)" ] + logs).joined(separator: "\n"))
        }
    }

    /// One wrk at the first target (node 1 of `cluster3_read`).
    private func measureThroughNode1(_ setup: GatewaySetup, targets: GatewayBenchTargets) async throws -> Measured {
        let port = targets.httpPorts[0]
        let call = setup.call
        if setup != .bare {
            // One call through the route wrk will load: a wrong setup fails here, not as a
            // wall of non-2xx answers.
            let path = "/v1/actors/counter/k0/\(call.rawValue)"
            let reply = try await GatewayBenchProbe.request(port: port, .POST, path, json: call.body)
            guard reply.status == 200 else {
                throw GatewayBenchFailure("POST \(path) answered \(reply.status): \(String(buffer: reply.body))")
            }
        }
        let script = try load.writeScript(call)
        log("\(setup.rawValue): warm-up \(BenchGatewayCommand.warmupSeconds) s")
        _ = try await load.run(script: script, port: port, seconds: BenchGatewayCommand.warmupSeconds)

        let metricsBefore = setup == .cluster3Read ? await GatewayBenchProbe.text(port: port, "/metrics") : nil
        let cpuBefore = cpuSeconds(targets)
        log("\(setup.rawValue): measuring \(duration) s")
        let summary = try await load.run(script: script, port: port, seconds: duration)
        let cpuUsed = cpuSeconds(targets) - cpuBefore
        let metricsAfter = setup == .bare ? nil : await GatewayBenchProbe.text(port: port, "/metrics")

        var cluster: ClusterFigures?
        if setup == .cluster3Read {
            var figures = ClusterFigures()
            if let before = metricsBefore, let after = metricsAfter {
                figures.measuredShare = PrometheusText.forwardedShare(before: [before], after: [after])
            }
            figures.ringShare = await ringForwardedShare(port: port, nodeName: nodeName(0))
            cluster = figures
        }
        let result = makeResult(
            setup, rps: summary.okPerSecond, summary: summary, cpuUsed: cpuUsed,
            gatewayStatuses: metricsAfter.map { PrometheusText.actorStatuses($0) })
        return Measured(result: result, cluster: cluster)
    }

    /// CPU seconds used so far by every target process.
    func cpuSeconds(_ targets: GatewayBenchTargets) -> Double {
        targets.children.map { ProcessCPU.seconds(of: $0.pid) }.reduce(0, +)
    }

    /// The setup's figures from wrk's `summary` (`rps` given apart: the sum over several wrk
    /// processes is not the merged summary's requests over its duration).
    func makeResult(
        _ setup: GatewaySetup, rps: Double, summary: WrkLoad.Summary, cpuUsed: Double,
        gatewayStatuses: [String: Int]?, perNode: [DirectNodeFigures]? = nil
    ) -> GatewaySetupResult {
        let e = summary.errors
        return GatewaySetupResult(
            rps: rps.rounded(),
            p50Ms: GatewaySetupResult.milliseconds(summary.latencyUs.p50),
            p99Ms: GatewaySetupResult.milliseconds(summary.latencyUs.p99),
            p999Ms: GatewaySetupResult.milliseconds(summary.latencyUs.p999),
            maxMs: GatewaySetupResult.milliseconds(summary.latencyUs.max),
            errors: e.total,
            errorsByKind: ["connect": e.connect, "read": e.read, "write": e.write, "status": e.status, "timeout": e.timeout],
            requests: summary.requests,
            durationSeconds: (summary.durationUs / 1e4).rounded() / 100,
            call: setup.call.rawValue,
            store: setup.storeKind,
            nodes: setup.nodes,
            serverCPUSeconds: (cpuUsed * 100).rounded() / 100,
            requestsPerCPUSecond: cpuUsed > 0 ? (Double(summary.requests - e.status) / cpuUsed).rounded() : nil,
            gatewayStatuses: gatewayStatuses,
            perNode: perNode,
            exits: []
        )
    }

    /// Share of the keys wrk uses (all of them, or 1,000 spread evenly when there are more)
    /// whose owner on node 1's ring is another node, from `GET /v1/cluster/lookup`.
    private func ringForwardedShare(port: Int, nodeName: String) async -> Double? {
        let samples = min(load.keys, 1_000)
        var others = 0
        var answered = 0
        for sample in 0..<samples {
            let key = sample * load.keys / samples
            guard let object = await GatewayBenchProbe.object(port: port, "/v1/cluster/lookup?key=counter/k\(key)"),
                  let owner = object["owner"] as? [String: Any], let name = owner["name"] as? String
            else { continue }
            answered += 1
            if name != nodeName { others += 1 }
        }
        return answered > 0 ? Double(others) / Double(answered) : nil
    }
}

/// Why `bench gateway` stopped (printed as `Error: …`, without the usage text).
struct GatewayBenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
