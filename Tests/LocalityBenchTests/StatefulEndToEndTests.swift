import Foundation
import LocalityBench
import Synchronization
import Testing

/// `locality bench stateful` as a user runs it: the `locality` binary (LOCALITY_BIN, else
/// `.build/debug/locality`) with child server processes, a short run, the JSON checked.
/// Locality (a real node behind its gateway, on its embedded SQLite store) always runs;
/// locality-pg and postgres join when LOCALITY_POSTGRES_URL points at a server, redis when
/// LOCALITY_REDIS_URL does.
@Suite(.serialized) struct StatefulEndToEndTests {
    static func binary(filePath: String = #filePath) -> String {
        if let path = ProcessInfo.processInfo.environment["LOCALITY_BIN"], !path.isEmpty { return path }
        let root = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/locality").path
    }

    /// Every system the environment can run, through the default fronts (the gateway for the
    /// locality systems), without pinning (the PostgreSQL and Redis servers are shared with
    /// other tests).
    @Test func shortRunIsCorrectForEveryAvailableSystem() throws {
        let environment = ProcessInfo.processInfo.environment
        var systems = ["locality"]
        if environment["LOCALITY_POSTGRES_URL"].map({ !$0.isEmpty }) == true { systems += ["locality-pg", "postgres"] }
        if environment["LOCALITY_REDIS_URL"].map({ !$0.isEmpty }) == true { systems.append("redis") }
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        guard let report = try Self.run([
            "--systems", systems.joined(separator: ","), "--duration", "2", "--keys", "500",
            "--connections", "8", "--write-ratio", "0.5", "--skew", "zipf", "--no-pin", "--json", "--out", directory + "/out",
        ], in: directory) else { return }
        let results = try #require(report["systems"] as? [String: [String: Any]])
        #expect(Set(results.keys) == Set(systems))
        for system in systems {
            let result = try #require(results[system])
            #expect(result["correct"] as? Bool == true, "\(system): \(result["problems"] ?? "")")
            #expect(result["errors"] as? Int == 0, "\(system)")
            #expect((result["throughput_rps"] as? Double ?? 0) > 0, "\(system)")
            #expect((result["verified_keys"] as? Int) == 500, "\(system)")
            #expect((result["fixed_rate"] as? [Any])?.count == 5, "\(system)")
            #expect(result["front"] as? String == (system.hasPrefix("locality") ? "gateway" : "bench-front"), "\(system)")
        }
        #expect(results["locality"]?["store"] as? String == "sqlite")
        #expect(report["pinning"] as? String == "none: --no-pin")
        if systems.contains("postgres") {
            #expect(results["locality"]?["throughput_ratio_vs_postgres"] is Double)
            #expect(results["locality-pg"]?["throughput_ratio_vs_postgres"] is Double)
            #expect(results["locality-pg"]?["store"] as? String == "postgres")
        }
        for file in ["report.json", "table.md", "latency-cdf.svg", "latency-cdf-closed-loop.svg", "throughput-vs-offered.svg"] {
            #expect(FileManager.default.fileExists(atPath: directory + "/out/" + file), "\(file)")
        }
    }

    /// The in-process bench front (`--locality-front bench`), pinned: the server child on
    /// one CPU, the load generator on another. Needs 2 usable CPUs and taskset.
    @Test func pinnedRunOnTheBenchFront() throws {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let cpus = CPUList(procStatus: status)?.cpus.count ?? 0
        let taskset = ["/usr/bin/taskset", "/bin/taskset", "/usr/local/bin/taskset"].contains { FileManager.default.isExecutableFile(atPath: $0) }
        guard taskset, cpus >= 2 else {
            print("skipped: needs taskset and 2 usable CPUs (taskset: \(taskset), CPUs: \(cpus))")
            return
        }
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        guard let report = try Self.run([
            "--systems", "locality", "--locality-front", "bench", "--pin", "--duration", "1", "--rate", "200", "--keys", "200",
            "--connections", "4", "--json", "--out", directory + "/out",
        ], in: directory) else { return }
        let result = try #require((report["systems"] as? [String: [String: Any]])?["locality"])
        #expect(result["correct"] as? Bool == true, "\(result["problems"] ?? "")")
        #expect(result["front"] as? String == "bench-front")
        let pinning = try #require(report["pinning"] as? String)
        #expect(pinning.hasPrefix("servers on CPU "), "\(pinning)")
        #expect(pinning.contains("1 bench-server process(es) started with `taskset -c"), "\(pinning)")
        #expect(pinning.contains("load generator (this process, pid"), "\(pinning)")
    }

    static func temporaryDirectory() throws -> String {
        let directory = NSTemporaryDirectory() + "locality-bench-stateful-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Runs `locality bench stateful arguments` in `directory` (no scripts/services there:
    /// the URLs come from the environment); its JSON report, nil after recording an issue.
    static func run(_ arguments: [String], in directory: String) throws -> [String: Any]? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary())
        process.arguments = ["bench", "stateful"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let collected = OutputBox()
        let handle = output.fileHandleForReading
        Thread.detachNewThread {
            let data = handle.readDataToEndOfFile()
            collected.data.withLock { $0 = data }
            collected.done.store(true, ordering: .releasing)
        }
        let deadline = Date().addingTimeInterval(300)
        while !(collected.done.load(ordering: .acquiring) && !process.isRunning), Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if process.isRunning || !collected.done.load(ordering: .acquiring) {
            process.interrupt()
            Issue.record("bench stateful did not finish within 300 s")
            return nil
        }
        #expect(process.terminationStatus == 0)
        let data = collected.data.withLock { $0 }
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}

/// Stdout of the child, read on its own thread.
private final class OutputBox: Sendable {
    let data = Mutex(Data())
    let done = Atomic<Bool>(false)
}
