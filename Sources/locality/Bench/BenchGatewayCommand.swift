import ArgumentParser
import Foundation
import LocalityLauncher
import Synchronization

/// `locality bench gateway`: the HTTP gateway of a real `locality node` against a bare
/// Hummingbird 2 route built from the same package (`bench bare-http`), in one run, with
/// one load generator (Debian `wrk`, `-t1 -c<connections>`, keys spread over `--keys`;
/// `cluster3_direct` runs one such wrk per node, `--connections` in all).
///
/// Each setup starts its target(s), waits until they answer, warms up 2 s (not recorded),
/// measures `--duration` seconds and stops them (SIGTERM, SIGKILL after 10 s). On a
/// machine with 2 or more CPUs the targets run on CPU 0 and wrk on CPU 1 (`taskset`).
struct BenchGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Measure the node's HTTP gateway against a bare Hummingbird route with wrk.",
        discussion: "Setups: \(GatewaySetup.allCases.map(\.rawValue).joined(separator: ", ")). \(GatewaySetup.overview)"
    )

    @Option(help: "Measured seconds per setup (after a 2 s warm-up).")
    var duration: Int = 10

    @Option(help: "wrk connections (one wrk thread; cluster3_direct splits them over its three wrk processes).")
    var connections: Int = 64

    @Option(help: "Distinct actor keys the requests cycle over (counter/k0 … k<K-1>).")
    var keys: Int = 1_000

    @Option(help: "Setups to run, comma-separated, in any order (they run in the order listed under OVERVIEW).")
    var setups: String = GatewaySetup.allCases.map(\.rawValue).joined(separator: ",")

    @Option(help: "Run the node setups with this `locality` binary instead (another build, e.g. an older revision, measured against the same bare route).")
    var nodeBinary: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    static let warmupSeconds = 2
    static let readyTimeout: Duration = .seconds(90)

    func validate() throws {
        guard duration >= 1, duration <= 600 else { throw ValidationError("--duration must be 1…600 seconds") }
        guard connections >= 1, connections <= 10_000 else { throw ValidationError("--connections must be 1…10,000") }
        guard keys >= 1, keys <= 1_000_000 else { throw ValidationError("--keys must be 1…1,000,000") }
        if try parsedSetups().contains(.cluster3Direct), connections < GatewaySetup.cluster3Direct.nodes {
            throw ValidationError("cluster3_direct needs --connections of at least \(GatewaySetup.cluster3Direct.nodes) (one wrk per node)")
        }
    }

    func parsedSetups() throws -> [GatewaySetup] {
        let names = setups.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let chosen = try names.map { name -> GatewaySetup in
            guard let setup = GatewaySetup(rawValue: name) else {
                throw ValidationError("unknown setup \(name); known: \(GatewaySetup.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return setup
        }
        guard !chosen.isEmpty, Set(chosen).count == chosen.count else { throw ValidationError("--setups: list each setup once") }
        // Always in the documented order, so a subset runs like the full list.
        return GatewaySetup.allCases.filter(chosen.contains)
    }

    /// Runs the benchmark in a task that SIGINT/SIGTERM cancel: the current setup's
    /// processes are stopped and the temporary directory removed before exiting with 130.
    func run() async throws {
        let command = self
        let work = Task { try await command.runBenchmark() }
        let interrupted = Mutex(false)
        let sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                interrupted.withLock { $0 = true }
                FileHandle.standardError.write(Data("bench gateway: interrupted, stopping the targets\n".utf8))
                work.cancel()
            }
            source.resume()
            return source
        }
        defer { for source in sources { source.cancel() } }
        do {
            try await work.value
        } catch {
            if interrupted.withLock({ $0 }) { throw ExitCode(130) }
            throw error
        }
    }

    func runBenchmark() async throws {
        let chosen = try parsedSetups()
        let log: @Sendable (String) -> Void = { FileHandle.standardError.write(Data("bench gateway: \($0)\n".utf8)) }
        let loadBefore = GatewayBenchMachine.loadAverage()
        let wrkPath = try await WrkLoad.locateOrInstall(log: log)
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        // Targets on CPU 0, wrk on CPU 1, when there are two CPUs and taskset (util-linux).
        let taskset = cpus >= 2 ? GatewayBenchMachine.executable(named: "taskset") : nil
        let pinned = taskset != nil
        let pinning = pinned
            ? "targets on CPU 0, wrk on CPU 1 (taskset -c); \(cpus) CPUs"
            : (cpus < 2 ? "none: \(cpus) CPU" : "none: taskset (util-linux) not found")

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("locality-bench-gateway-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let runner = GatewayBenchRunner(
            executable: NodeProcessGroup.currentExecutable(),
            nodeExecutable: nodeBinary ?? NodeProcessGroup.currentExecutable(),
            directory: directory,
            tasksetPath: taskset,
            load: WrkLoad(wrkPath: wrkPath, pin: taskset.map { ($0, 1) }, connections: connections, keys: keys, directory: directory),
            duration: duration,
            log: log
        )
        try runner.writeKeyFile()
        log("wrk \(wrkPath), -t1 -c\(connections), \(Self.warmupSeconds) s warm-up + \(duration) s per setup, \(keys) keys; pinning: \(pinning)")

        var results: [GatewaySetup: GatewaySetupResult] = [:]
        var clusterRead: ClusterFigures?
        var clusterDirect: ClusterFigures?
        for setup in chosen {
            let measured = try await runner.measure(setup)
            results[setup] = measured.result
            switch setup {
            case .cluster3Read: clusterRead = measured.cluster
            case .cluster3Direct: clusterDirect = measured.cluster
            default: break
            }
            let r = measured.result
            let forwarded = measured.cluster?.share.map { String(format: ", forwarded share %.3f", $0) } ?? ""
            log("\(setup.rawValue): \(Int(r.rps)) req/s, p50 \(r.p50Ms) ms, p99 \(r.p99Ms) ms, p99.9 \(r.p999Ms) ms, \(r.errors) errors\(forwarded)")
        }

        var report = GatewayBenchReport(
            setups: results,
            pinning: pinning,
            machine: GatewayBenchMachine.describe(cpus: cpus, loadBefore: loadBefore, loadAfter: GatewayBenchMachine.loadAverage()),
            command: CommandLine.arguments.joined(separator: " "),
            durationSeconds: duration, connections: connections, keys: keys, warmupSeconds: Self.warmupSeconds,
            clusterRead: clusterRead,
            clusterDirect: clusterDirect
        )
        report.notes = GatewayBenchReport.notes(results: results, clusterRead: clusterRead, clusterDirect: clusterDirect, pinned: pinned)
        if json {
            print(try report.sortedKeysJSON())
        } else {
            print(report.text)
        }
    }
}
