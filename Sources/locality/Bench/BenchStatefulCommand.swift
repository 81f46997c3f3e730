import ArgumentParser
import Foundation
import LocalityBench
import NIOCore
import NIOPosix

/// `locality bench stateful`: the same service (a game session per key: read the state,
/// apply a move or derive a view) implemented several ways — Locality actors holding the
/// state (a real `LocalityNode` behind its HTTP gateway, on SQLite or PostgreSQL),
/// stateless over PostgreSQL, stateless over Redis — each in its own child process, driven
/// by one load generator in this process: closed-loop maximum throughput, then fixed
/// offered loads, then a correctness check of every key. With `--pin` (the default when
/// possible) the servers run on one CPU and the load generator on another.
struct BenchStatefulCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stateful",
        abstract: "Stateful (Locality actors) vs stateless (PostgreSQL, Redis) on one workload."
    )

    @Option(help: "Systems to run, comma-separated: locality (actors on the embedded SQLite store), locality-pg (actors on PostgreSQL), postgres, redis.")
    var systems: String = "locality,locality-pg,postgres,redis"

    @Option(help: "Seconds of the closed-loop (maximum throughput) phase per system.")
    var duration: Double = 20

    @Option(help: "Offered loads (requests/s) of the fixed-rate phases, comma-separated; default: 5 points from 50 % of the slowest system's maximum to 120 % of the fastest.")
    var rate: String?

    @Option(help: "Connections of the load generator (closed-loop workers and fixed-rate workers).")
    var connections: Int = 64

    @Option(help: "Share of requests that write (0…1).")
    var writeRatio: Double = 0.2

    @Option(help: "Distinct keys.")
    var keys: Int = 10_000

    @Option(help: "Key popularity: uniform or zipf (s = 0.99).")
    var skew: KeySkew = .uniform

    @Option(help: "Seed of the request streams.")
    var seed: UInt64 = 42

    @Option(help: "Store of the locality system: sqlite (the embedded default), postgres, or auto (PostgreSQL when a PostgreSQL URL is known). locality-pg always uses PostgreSQL.")
    var localityStore: BenchServer.LocalityStore = .sqlite

    @Option(help: "Front of the locality systems: gateway (a LocalityNode; the load goes through its HTTP gateway, POST /v1/actors/session/{key}/move|current) or bench (the shared bench front over an in-process ClusterSystem, as the baselines are served).")
    var localityFront: BenchLocalityFront = .gateway

    @Flag(inversion: .prefixedNo, help: "Servers (bench-server children, PostgreSQL, Redis) on one CPU and the load generator on another, with taskset. Default: on with 2 or more usable CPUs and taskset.")
    var pin: Bool?

    @Option(help: "Directory for report.json, table.md and the SVG plots.")
    var out: String = "artifacts/bench-stateful"

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard duration > 0, duration <= 600 else { throw ValidationError("--duration must be in (0, 600] seconds") }
        guard connections >= 1, connections <= 1024 else { throw ValidationError("--connections must be 1…1024") }
        guard writeRatio >= 0, writeRatio <= 1 else { throw ValidationError("--write-ratio must be in [0, 1]") }
        guard keys >= 1, keys <= 1_000_000 else { throw ValidationError("--keys must be 1…1,000,000") }
        _ = try parsedSystems()
        _ = try parsedRates()
    }

    func parsedSystems() throws -> [BenchSystem] {
        let names = systems.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let parsed = try names.map { name -> BenchSystem in
            guard let system = BenchSystem(rawValue: name) else { throw ValidationError("unknown system \(name)") }
            return system
        }
        guard !parsed.isEmpty, Set(parsed).count == parsed.count else { throw ValidationError("--systems: list each system once") }
        return parsed
    }

    func parsedRates() throws -> [Double]? {
        guard let rate else { return nil }
        let rates = try rate.split(separator: ",").map { text -> Double in
            guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value > 0, value <= 10_000_000 else {
                throw ValidationError("--rate: \(text) is not a rate in (0, 10,000,000]")
            }
            return value
        }
        guard !rates.isEmpty, rates.count <= 20 else { throw ValidationError("--rate: 1…20 rates") }
        return rates
    }

    func run() async throws {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let systemList = try parsedSystems()
        let log: @Sendable (String) -> Void = { FileHandle.standardError.write(Data("bench stateful: \($0)\n".utf8)) }
        let pinning = try StatefulPinning.decide(requested: pin)
        var services = systemList.filter { $0 == .postgres || $0 == .redis }.map(\.rawValue)
        let localityNeedsPostgres = systemList.contains(.localityPostgres) || (systemList.contains(.locality) && localityStore != .sqlite)
        if localityNeedsPostgres, !services.contains("postgres") { services.insert("postgres", at: 0) }
        let urls = try await ServiceURLs.resolve(services: services, log: log)
        if services.contains("postgres") {
            await pinning.pinService("postgres", ServiceProcesses.postgres(url: urls["LOCALITY_POSTGRES_URL"]), withChildren: true)
        }
        if services.contains("redis") {
            await pinning.pinService("redis", ServiceProcesses.redis(url: urls["LOCALITY_REDIS_URL"]), withChildren: false)
        }
        do {
            try await measure(systemList, urls: urls, pinning: pinning, log: log)
        } catch {
            await pinning.restore()
            throw error
        }
    }

    /// Starts a child per system, runs the benchmark, stops the children, gives the
    /// services their CPUs back and writes the report.
    private func measure(_ systemList: [BenchSystem], urls: [String: String], pinning: StatefulPinning, log: @escaping @Sendable (String) -> Void) async throws {
        var children: [BenchServerChild] = []
        defer { for child in children { child.stop() } }
        var targets: [BenchTarget] = []
        for system in systemList {
            let child = try BenchServerChild.start(
                ["bench-server", "--system", system.rawValue, "--locality-store", localityStore.rawValue, "--locality-front", localityFront.rawValue],
                environment: urls, pin: pinning.childPin
            )
            children.append(child)
            let store = child.fields.first ?? system.rawValue
            let gateway = child.fields.first { $0.hasPrefix("gateway=") }.flatMap { Int($0.dropFirst("gateway=".count)) }
            targets.append(BenchTarget(
                system: system, port: child.port, store: store, durability: Self.durability(system: system, store: store),
                loadPort: gateway, api: gateway == nil ? .benchFront : .gateway))
            log("\(system.rawValue) serving on 127.0.0.1:\(child.port) (store: \(store)\(gateway.map { ", gateway 127.0.0.1:\($0)" } ?? ""))")
        }
        pinning.childrenStarted(children.count)
        await pinning.pinGenerator()
        log("CPU pinning: \(pinning.summary)")

        var settings = StatefulBenchSettings()
        settings.duration = duration
        settings.connections = connections
        settings.rates = try parsedRates()
        settings.workload.writeRatio = writeRatio
        settings.workload.keys = keys
        settings.workload.skew = skew
        settings.workload.seed = seed
        let started = Date()
        let generatorCPUBefore = ProcessCPU.ownSeconds()
        let serverCPUBefore = children.map { ProcessCPU.seconds(of: $0.process.processIdentifier) }
        var results = try await StatefulBenchmark(settings: settings).run(targets: targets, progress: log)
        let generatorCPU = ProcessCPU.ownSeconds() - generatorCPUBefore
        for index in results.indices {
            let used = ProcessCPU.seconds(of: children[index].process.processIdentifier) - serverCPUBefore[index]
            results[index].serverCPUSeconds = (used * 100).rounded() / 100
        }
        let wall = Date().timeIntervalSince(started)
        for child in children { child.stop() }
        await pinning.restore()

        let formatter = ISO8601DateFormatter()
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let placement = pinning.taskset == nil
            ? "load generator (this process) and servers share the machine's \(cores) cores"
            : "servers (bench-server children, PostgreSQL, Redis) on CPU \(pinning.serverCPU), load generator on CPU \(pinning.generatorCPU) of \(cores) (see pinning; the CPUs still share the last-level cache, memory bandwidth and the kernel's network work)"
        var report = StatefulReport(
            date: formatter.string(from: Date()),
            command: "locality " + CommandLine.arguments.dropFirst().joined(separator: " "),
            durationSeconds: duration, connections: connections, workload: settings.workload,
            note: "\(placement); p50/p99/p999 are measured at latency_at_rps offered (fixed rate, from intended start), throughput_rps is the closed-loop maximum",
            systems: Dictionary(uniqueKeysWithValues: results.map { ($0.system, $0) })
        )
        report.generatorCPUSeconds = (generatorCPU * 100).rounded() / 100
        report.wallSeconds = (wall * 10).rounded() / 10
        report.pinning = pinning.summary
        report.computeRatios()
        let order = systemList.map(\.rawValue)
        try writeArtifacts(report, order: order)
        if json {
            print(try report.sortedKeysJSON())
        } else {
            print(MarkdownTable.render(report, order: order))
        }
    }

    static func durability(system: BenchSystem, store: String) -> String {
        switch (system, store) {
        case (.locality, "sqlite"), (.localityPostgres, "sqlite"): return BenchServer.sqliteDurability
        case (.locality, _), (.localityPostgres, _): return BenchServer.postgresStoreDurability
        case (.postgres, _): return "PostgreSQL, synchronous_commit=on (WAL fsync before each reply)"
        case (.redis, _): return "Redis AOF, appendfsync everysec (acknowledged before fsync: up to ~1 s of writes lost on a crash)"
        }
    }

    private func writeArtifacts(_ report: StatefulReport, order: [String]) throws {
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try encoder.encode(report).write(to: URL(fileURLWithPath: out + "/report.json"))
        try Data(MarkdownTable.render(report, order: order).utf8).write(to: URL(fileURLWithPath: out + "/table.md"))
        try Data(StatefulPlots.latencyCDF(report, order: order, closedLoop: false).utf8).write(to: URL(fileURLWithPath: out + "/latency-cdf.svg"))
        try Data(StatefulPlots.latencyCDF(report, order: order, closedLoop: true).utf8).write(to: URL(fileURLWithPath: out + "/latency-cdf-closed-loop.svg"))
        try Data(StatefulPlots.throughputVsOffered(report, order: order).utf8).write(to: URL(fileURLWithPath: out + "/throughput-vs-offered.svg"))
    }
}

extension KeySkew: ExpressibleByArgument {}

/// CPU time of processes, for showing how much of the machine the load generator took.
enum ProcessCPU {
    /// User + system seconds of this process.
    static func ownSeconds() -> Double {
        seconds(of: getpid())
    }

    /// User + system seconds of process `pid` (from /proc/PID/stat), 0 when unreadable.
    static func seconds(of pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        // Fields after "comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
