import ArgumentParser
import Foundation
import LocalityCore
import LocalityMembership

/// `locality demo`: starts a local cluster on loopback, kills one node and shows the
/// survivors detect it, stops another gracefully and shows it leave, then prints what it
/// measured. Every child process is stopped on every path, Ctrl-C included.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a local cluster, crash a node, and watch the cluster recover.")

    @Option(help: "Number of nodes to start (3…16).")
    var nodes: Int = 5

    @Option(help: "Seconds to wait for each phase before calling it a failure.")
    var phaseTimeout: Double = 30

    @Flag(help: "Keep the temporary directory with the node logs.")
    var keepLogs = false

    func validate() throws {
        guard (3...16).contains(nodes) else { throw ValidationError("--nodes must be between 3 and 16") }
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
        let report = try await DemoScenario(cluster: cluster, phaseTimeout: phaseTimeout).run()
        report.print()
        if !report.passed { throw ExitCode(1) }
    }
}
