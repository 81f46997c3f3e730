import ArgumentParser
import Foundation
import LocalityCore

/// `locality demo`: starts a 3-node cluster on loopback (SQLite in a temporary
/// directory), drives the PlayerStats workload through the HTTP gateways, kills one node
/// halfway, and checks that no acknowledged write was lost. Every child process is
/// stopped on every path, Ctrl-C included; exits non-zero when a write was lost.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a local cluster under load, crash a node, and check that no acknowledged write is lost.")

    @Option(help: "Number of nodes to start (3…9).")
    var nodes: Int = 3

    @Option(help: "Seconds of workload; one node is killed halfway.")
    var duration: Double = 20

    @Option(help: "Players (actors) the workload spreads over.")
    var players: Int = 1_000

    @Option(help: "Concurrent clients, each with one keep-alive connection.")
    var clients: Int = 32

    @Option(help: "Share of requests that record a match (a write); the rest read.")
    var writeRatio: Double = 0.3

    @Option(help: "Where to write the SVG plot of latency over time.")
    var plot: String = "artifacts/demo-latency.svg"

    @Option(help: "Seconds to wait for the cluster to form or a crash to be seen before calling it a failure.")
    var phaseTimeout: Double = 30

    @Flag(help: "Keep the temporary directory with the node logs and the SQLite file.")
    var keepLogs = false

    func validate() throws {
        guard (3...9).contains(nodes) else { throw ValidationError("--nodes must be between 3 and 9") }
        guard (2...600).contains(duration) else { throw ValidationError("--duration must be between 2 and 600 seconds") }
        guard (1...1_000_000).contains(players) else { throw ValidationError("--players must be between 1 and 1,000,000") }
        guard (1...1_024).contains(clients) else { throw ValidationError("--clients must be between 1 and 1,024") }
        guard (0...1).contains(writeRatio) else { throw ValidationError("--write-ratio must be between 0 and 1") }
        guard phaseTimeout > 0 else { throw ValidationError("--phase-timeout must be positive") }
    }

    func run() async throws {
        let cluster = try await DemoCluster(size: nodes)
        let processes = cluster.processes
        let interrupt = InterruptHandler { processes.stopAll() }
        defer {
            interrupt.cancel()
            processes.stopAll()
            if keepLogs { print("logs kept in \(processes.directory.path)") } else { processes.removeDirectory() }
        }
        let workload = DemoWorkload(
            httpPorts: cluster.names.map { cluster.httpPort(of: $0) }, players: players, clients: clients,
            writeRatio: writeRatio, duration: .milliseconds(Int64(duration * 1000)))
        let report = try await DemoScenario(cluster: cluster, workload: workload, phaseTimeout: phaseTimeout, plotPath: plot).run()
        report.print()
        if !report.passed { throw ExitCode(1) }
    }
}
