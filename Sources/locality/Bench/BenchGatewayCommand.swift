import ArgumentParser
import Foundation
import LocalityLauncher
import Synchronization

/// `locality bench gateway`: the HTTP gateway of a real `locality node` against a bare
/// Hummingbird 2 route built from the same package (`bench bare-http`), in one run, with
/// one load generator (Debian `wrk`, `-t1 -c<connections>`, keys spread over `--keys`).
///
/// Each setup starts its target(s), waits until they answer, warms up 2 s (not recorded),
/// measures `--duration` seconds and stops them (SIGTERM, SIGKILL after 10 s). On a
/// machine with 2 or more CPUs the targets run on CPU 0 and wrk on CPU 1 (`taskset`).
struct BenchGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Measure the node's HTTP gateway against a bare Hummingbird route with wrk.",
        discussion: """
            Setups: \(GatewaySetup.allCases.map(\.rawValue).joined(separator: ", ")). \
            bare: the bare Hummingbird route; read_memory / write_memory: one node on the memory \
            store, counter value / increment; write_sqlite: one node on SQLite, increment; \
            read_sqlite1: one node on SQLite, value; cluster3_read: three nodes on one SQLite \
            file, value, all load sent to node 1 (two thirds of the keys are owned by the \
            others, so about two thirds of the calls are forwarded).
            """
    )

    @Option(help: "Measured seconds per setup (after a 2 s warm-up).")
    var duration: Int = 10

    @Option(help: "wrk connections (one wrk thread).")
    var connections: Int = 64

    @Option(help: "Distinct actor keys the requests cycle over (counter/k0 … k<K-1>).")
    var keys: Int = 1_000

    @Option(help: "Setups to run, comma-separated, in any order (they run in the order listed under OVERVIEW).")
    var setups: String = GatewaySetup.allCases.map(\.rawValue).joined(separator: ",")

    @Flag(help: "Print one JSON object.")
    var json = false

    static let warmupSeconds = 2
    static let readyTimeout: Duration = .seconds(90)

    func validate() throws {
        guard duration >= 1, duration <= 600 else { throw ValidationError("--duration must be 1…600 seconds") }
        guard connections >= 1, connections <= 10_000 else { throw ValidationError("--connections must be 1…10,000") }
        guard keys >= 1, keys <= 1_000_000 else { throw ValidationError("--keys must be 1…1,000,000") }
        _ = try parsedSetups()
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
            directory: directory,
            tasksetPath: taskset,
            load: WrkLoad(wrkPath: wrkPath, pin: taskset.map { ($0, 1) }, connections: connections, keys: keys, directory: directory),
            duration: duration,
            log: log
        )
        try runner.writeKeyFile()
        log("wrk \(wrkPath), -t1 -c\(connections), \(Self.warmupSeconds) s warm-up + \(duration) s per setup, \(keys) keys; pinning: \(pinning)")

        var results: [GatewaySetup: GatewaySetupResult] = [:]
        var cluster: ClusterFigures?
        for setup in chosen {
            let measured = try await runner.measure(setup)
            results[setup] = measured.result
            if let figures = measured.cluster { cluster = figures }
            let r = measured.result
            log("\(setup.rawValue): \(Int(r.rps)) req/s, p50 \(r.p50Ms) ms, p99 \(r.p99Ms) ms, p99.9 \(r.p999Ms) ms, \(r.errors) errors")
        }

        var report = GatewayBenchReport(
            setups: Dictionary(uniqueKeysWithValues: results.map { ($0.key.rawValue, $0.value) }),
            pinning: pinning,
            machine: GatewayBenchMachine.describe(cpus: cpus, loadBefore: loadBefore, loadAfter: GatewayBenchMachine.loadAverage()),
            command: CommandLine.arguments.joined(separator: " "),
            durationSeconds: duration, connections: connections, keys: keys, warmupSeconds: Self.warmupSeconds,
            forwardedShare: cluster?.measuredShare ?? cluster?.ringShare,
            forwardedShareRing: cluster?.ringShare
        )
        report.notes = Self.notes(results: results, cluster: cluster, pinned: pinned)
        if json {
            print(try report.sortedKeysJSON())
        } else {
            print(report.text)
        }
    }

    /// Anything a reader should not miss: errors, non-2xx answers, unclean exits, a forwarded
    /// share far from two thirds.
    static func notes(results: [GatewaySetup: GatewaySetupResult], cluster: ClusterFigures?, pinned: Bool) -> [String] {
        var notes: [String] = []
        for setup in GatewaySetup.allCases {
            guard let result = results[setup] else { continue }
            if result.errors > 0 {
                let kinds = result.errorsByKind.sorted { $0.key < $1.key }.filter { $0.value > 0 }.map { "\($0.key) \($0.value)" }
                notes.append("\(setup.rawValue): \(result.errors) errors (\(kinds.joined(separator: ", ")))")
            }
            if let statuses = result.gatewayStatuses, statuses.keys.contains(where: { !$0.hasPrefix("2") }) {
                notes.append("\(setup.rawValue): gateway actor answers by status \(statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))")
            }
            if pinned, result.serverCPUSeconds < 0.8 * result.durationSeconds {
                notes.append("\(setup.rawValue): the target used \(result.serverCPUSeconds) CPU-s in \(result.durationSeconds) s on its pinned CPU (other processes took turns on it, or the load generator was the limit); requests_per_cpu_s is the steadier figure")
            }
            for exit in result.exits where !exit.hasSuffix("exited(0)") {
                notes.append("\(setup.rawValue): \(exit)")
            }
        }
        if let share = cluster?.measuredShare ?? cluster?.ringShare, abs(share - 2.0 / 3.0) > 0.15 {
            notes.append("cluster3_read: forwarded share \(share), expected about 0.67")
        }
        return notes
    }
}

/// The targets and loads `bench gateway` measures.
enum GatewaySetup: String, CaseIterable, Sendable {
    case bare
    case readMemory = "read_memory"
    case writeMemory = "write_memory"
    case writeSQLite = "write_sqlite"
    case readSQLite1 = "read_sqlite1"
    case cluster3Read = "cluster3_read"

    var call: WrkLoad.Call {
        switch self {
        case .bare, .readMemory, .readSQLite1, .cluster3Read: .value
        case .writeMemory, .writeSQLite: .increment
        }
    }

    var nodes: Int {
        switch self {
        case .bare: 0
        case .cluster3Read: 3
        default: 1
        }
    }

    /// The `--store` of its nodes (`DIR` is the run's temporary directory).
    func store(directory: String) -> String? {
        switch self {
        case .bare: nil
        case .readMemory, .writeMemory: "memory"
        case .writeSQLite: "sqlite:\(directory)/write_sqlite.sqlite"
        case .readSQLite1: "sqlite:\(directory)/read_sqlite1.sqlite"
        case .cluster3Read: "sqlite:\(directory)/cluster.sqlite"
        }
    }

    var storeKind: String {
        switch self {
        case .bare: "none"
        case .readMemory, .writeMemory: "memory"
        case .writeSQLite, .readSQLite1: "sqlite"
        case .cluster3Read: "sqlite (one file, 3 nodes)"
        }
    }
}

/// The forwarding figures of `cluster3_read`.
struct ClusterFigures: Sendable {
    /// Forwards / actor calls on node 1 during the measurement (its metrics).
    var measuredShare: Double?
    /// Share of the keys whose owner on node 1's ring is another node (`/v1/cluster/lookup`).
    var ringShare: Double?
}

/// One setup's figures.
struct GatewaySetupResult: Encodable, Sendable {
    /// 2xx answers per second.
    var rps: Double
    var p50Ms: Double
    var p99Ms: Double
    var p999Ms: Double
    var maxMs: Double
    /// Socket errors, timeouts and non-2xx answers.
    var errors: Int
    var errorsByKind: [String: Int]
    /// Answers received by wrk (non-2xx included).
    var requests: Int
    var durationSeconds: Double
    var call: String
    var store: String
    var nodes: Int
    /// CPU seconds the target process(es) used during the measured seconds.
    var serverCPUSeconds: Double
    /// 2xx answers per CPU-second of the target(s): less sensitive than `rps` to other
    /// processes taking turns on the target's CPU.
    var requestsPerCPUSecond: Double?
    /// Actor-route answers by status on the node wrk called (its `/metrics`, whole run incl. warm-up).
    var gatewayStatuses: [String: Int]?
    /// How each target process ended.
    var exits: [String]

    enum CodingKeys: String, CodingKey {
        case rps, errors, requests, call, store, nodes, exits
        case p50Ms = "p50_ms"
        case p99Ms = "p99_ms"
        case p999Ms = "p999_ms"
        case maxMs = "max_ms"
        case errorsByKind = "errors_by_kind"
        case durationSeconds = "duration_s"
        case serverCPUSeconds = "server_cpu_s"
        case requestsPerCPUSecond = "requests_per_cpu_s"
        case gatewayStatuses = "gateway_statuses"
    }
}

/// What `bench gateway` prints.
struct GatewayBenchReport: Encodable {
    var setups: [String: GatewaySetupResult]
    var pinning: String
    var machine: GatewayBenchMachine.Facts
    var command: String
    var durationSeconds: Int
    var connections: Int
    var keys: Int
    var warmupSeconds: Int
    var forwardedShare: Double?
    var forwardedShareRing: Double?
    var notes: [String] = []

    private func rps(_ setup: GatewaySetup) -> Double? { setups[setup.rawValue]?.rps }

    private static func ratio(_ top: Double?, _ bottom: Double?) -> Double? {
        guard let top, let bottom, bottom > 0 else { return nil }
        return (top / bottom * 1000).rounded() / 1000
    }

    var ratioReadMemory: Double? { Self.ratio(rps(.readMemory), rps(.bare)) }
    var ratioWriteMemory: Double? { Self.ratio(rps(.writeMemory), rps(.bare)) }
    var ratioWriteSQLite: Double? { Self.ratio(rps(.writeSQLite), rps(.bare)) }
    var ratioReadSQLite1: Double? { Self.ratio(rps(.readSQLite1), rps(.bare)) }
    var p99RatioReadMemory: Double? { Self.ratio(setups[GatewaySetup.readMemory.rawValue]?.p99Ms, setups[GatewaySetup.bare.rawValue]?.p99Ms) }
    var cluster3OverNode1: Double? { Self.ratio(rps(.cluster3Read), rps(.readSQLite1)) }
    private func perCPU(_ setup: GatewaySetup) -> Double? { setups[setup.rawValue]?.requestsPerCPUSecond }
    var perCPURatioReadMemory: Double? { Self.ratio(perCPU(.readMemory), perCPU(.bare)) }
    var perCPURatioWriteMemory: Double? { Self.ratio(perCPU(.writeMemory), perCPU(.bare)) }
    var perCPURatioWriteSQLite: Double? { Self.ratio(perCPU(.writeSQLite), perCPU(.bare)) }

    enum CodingKeys: String, CodingKey {
        case setups, pinning, machine, command, connections, keys, notes
        case durationSeconds = "duration_s"
        case warmupSeconds = "warmup_s"
        case ratioReadMemory = "ratio_read_memory"
        case ratioWriteMemory = "ratio_write_memory"
        case ratioWriteSQLite = "ratio_write_sqlite"
        case ratioReadSQLite1 = "ratio_read_sqlite1"
        case p99RatioReadMemory = "p99_ratio_read_memory"
        case cluster3OverNode1 = "cluster3_over_node1"
        case perCPURatioReadMemory = "per_cpu_ratio_read_memory"
        case perCPURatioWriteMemory = "per_cpu_ratio_write_memory"
        case perCPURatioWriteSQLite = "per_cpu_ratio_write_sqlite"
        case cluster3DirectOverNode1 = "cluster3_direct_over_node1"
        case forwardedShare = "forwarded_share"
        case forwardedShareRing = "forwarded_share_ring"
        case loadGenerator = "load_generator"
    }

    /// Every key is written; a ratio whose setups did not run is `null`.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(setups, forKey: .setups)
        try container.encode(pinning, forKey: .pinning)
        try container.encode(machine, forKey: .machine)
        try container.encode(command, forKey: .command)
        try container.encode(durationSeconds, forKey: .durationSeconds)
        try container.encode(warmupSeconds, forKey: .warmupSeconds)
        try container.encode(connections, forKey: .connections)
        try container.encode(keys, forKey: .keys)
        try container.encode(notes, forKey: .notes)
        try container.encode("wrk -t1 -c\(connections), POST /v1/actors/counter/k<i>/<method>, i cycling over \(keys) keys", forKey: .loadGenerator)
        try container.encode(ratioReadMemory, forKey: .ratioReadMemory)
        try container.encode(ratioWriteMemory, forKey: .ratioWriteMemory)
        try container.encode(ratioWriteSQLite, forKey: .ratioWriteSQLite)
        try container.encode(ratioReadSQLite1, forKey: .ratioReadSQLite1)
        try container.encode(p99RatioReadMemory, forKey: .p99RatioReadMemory)
        try container.encode(cluster3OverNode1, forKey: .cluster3OverNode1)
        try container.encode(perCPURatioReadMemory, forKey: .perCPURatioReadMemory)
        try container.encode(perCPURatioWriteMemory, forKey: .perCPURatioWriteMemory)
        try container.encode(perCPURatioWriteSQLite, forKey: .perCPURatioWriteSQLite)
        // Placeholder until a client that sends each call to its key's owner exists.
        try container.encode(Double?.none, forKey: .cluster3DirectOverNode1)
        try container.encode(forwardedShare.map { ($0 * 1000).rounded() / 1000 }, forKey: .forwardedShare)
        try container.encode(forwardedShareRing.map { ($0 * 1000).rounded() / 1000 }, forKey: .forwardedShareRing)
    }

    var text: String {
        func cell(_ text: String, _ width: Int, left: Bool = false) -> String {
            let pad = String(repeating: " ", count: max(0, width - text.count))
            return left ? text + pad : pad + text
        }
        func number(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "n/a" }
        var lines = [
            "bench gateway: wrk -t1 -c\(connections), \(warmupSeconds) s warm-up + \(durationSeconds) s per setup, \(keys) keys",
            "pinning: \(pinning)",
            "machine: \(machine.cpus) CPUs (\(machine.cpuModel)), kernel \(machine.kernel), \(machine.build) build, load (1 min) \(machine.load1mBefore) before, \(machine.load1mAfter) after",
            "",
            cell("setup", 14, left: true) + cell("call", 10, left: true) + cell("store", 28, left: true)
                + cell("req/s", 9) + cell("p50 ms", 9) + cell("p99 ms", 9) + cell("p99.9 ms", 10) + cell("errors", 8) + cell("CPU s", 8) + cell("req/CPU-s", 11),
        ]
        for setup in GatewaySetup.allCases {
            guard let r = setups[setup.rawValue] else { continue }
            lines.append(
                cell(setup.rawValue, 14, left: true) + cell(r.call, 10, left: true) + cell(r.store, 28, left: true)
                    + cell(String(Int(r.rps)), 9) + cell(String(r.p50Ms), 9) + cell(String(r.p99Ms), 9) + cell(String(r.p999Ms), 10)
                    + cell(String(r.errors), 8) + cell(String(r.serverCPUSeconds), 8)
                    + cell(r.requestsPerCPUSecond.map { String(Int($0)) } ?? "n/a", 11))
        }
        lines.append("")
        lines.append("throughput vs bare: read_memory \(number(ratioReadMemory)), write_memory \(number(ratioWriteMemory)), write_sqlite \(number(ratioWriteSQLite)), read_sqlite1 \(number(ratioReadSQLite1)); p99 read_memory/bare \(number(p99RatioReadMemory))")
        lines.append("per CPU-second of the target vs bare: read_memory \(number(perCPURatioReadMemory)), write_memory \(number(perCPURatioWriteMemory)), write_sqlite \(number(perCPURatioWriteSQLite))")
        lines.append("cluster3_read / read_sqlite1: \(number(cluster3OverNode1)); forwarded share \(number(forwardedShare)) (ring: \(number(forwardedShareRing))); cluster3_direct_over_node1: n/a (needs an owner-aware client)")
        for note in notes { lines.append("note: \(note)") }
        return lines.joined(separator: "\n")
    }
}

/// Facts about the machine for the report.
enum GatewayBenchMachine {
    /// The first executable `name` on PATH (then /usr/bin, /usr/local/bin).
    static func executable(named name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin", "/bin"]
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The 1-minute load average.
    static func loadAverage() -> Double {
        var loads = [Double](repeating: 0, count: 3)
        return getloadavg(&loads, 3) > 0 ? (loads[0] * 100).rounded() / 100 : -1
    }

    /// The machine in the report.
    struct Facts: Encodable, Sendable {
        var cpus: Int
        var cpuModel: String
        var kernel: String
        /// How this `locality` was compiled: debug or release.
        var build: String
        var load1mBefore: Double
        var load1mAfter: Double

        enum CodingKeys: String, CodingKey {
            case cpus, kernel, build
            case cpuModel = "cpu_model"
            case load1mBefore = "load_1m_before"
            case load1mAfter = "load_1m_after"
        }
    }

    /// "debug" when assertions run (a debug build), else "release".
    static let build: String = {
        var debug = false
        assert({ debug = true; return true }())
        return debug ? "debug" : "release"
    }()

    static func describe(cpus: Int, loadBefore: Double, loadAfter: Double) -> Facts {
        let cpuInfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuInfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        let kernel = ((try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)) ?? "unknown")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return Facts(
            cpus: cpus, cpuModel: model, kernel: kernel, build: build,
            load1mBefore: loadBefore, load1mAfter: loadAfter)
    }
}
