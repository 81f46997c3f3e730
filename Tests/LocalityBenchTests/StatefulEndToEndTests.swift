import Foundation
import Synchronization
import Testing

/// `locality bench stateful` as a user runs it: the `locality` binary (LOCALITY_BIN, else
/// `.build/debug/locality`) with child server processes, a short run, the JSON checked.
/// Locality (on its embedded SQLite store) always runs; locality-pg and postgres join when
/// LOCALITY_POSTGRES_URL points at a server, redis when LOCALITY_REDIS_URL does.
@Suite(.serialized) struct StatefulEndToEndTests {
    static func binary(filePath: String = #filePath) -> String {
        if let path = ProcessInfo.processInfo.environment["LOCALITY_BIN"], !path.isEmpty { return path }
        let root = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/locality").path
    }

    @Test func shortRunIsCorrectForEveryAvailableSystem() throws {
        let environment = ProcessInfo.processInfo.environment
        var systems = ["locality"]
        if environment["LOCALITY_POSTGRES_URL"].map({ !$0.isEmpty }) == true { systems += ["locality-pg", "postgres"] }
        if environment["LOCALITY_REDIS_URL"].map({ !$0.isEmpty }) == true { systems.append("redis") }
        let directory = NSTemporaryDirectory() + "locality-bench-stateful-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary())
        process.arguments = [
            "bench", "stateful", "--systems", systems.joined(separator: ","), "--duration", "2", "--keys", "500",
            "--connections", "8", "--write-ratio", "0.5", "--skew", "zipf", "--json", "--out", directory + "/out",
        ]
        // A directory without scripts/services: the URLs come from the environment.
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
            return
        }
        let data = collected.data.withLock { $0 }
        #expect(process.terminationStatus == 0)
        let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let results = try #require(report["systems"] as? [String: [String: Any]])
        #expect(Set(results.keys) == Set(systems))
        for system in systems {
            let result = try #require(results[system])
            #expect(result["correct"] as? Bool == true, "\(system): \(result["problems"] ?? "")")
            #expect(result["errors"] as? Int == 0, "\(system)")
            #expect((result["throughput_rps"] as? Double ?? 0) > 0, "\(system)")
            #expect((result["verified_keys"] as? Int) == 500, "\(system)")
            #expect((result["fixed_rate"] as? [Any])?.count == 5, "\(system)")
        }
        #expect(results["locality"]?["store"] as? String == "sqlite")
        if systems.contains("postgres") {
            #expect(results["locality"]?["throughput_ratio_vs_postgres"] is Double)
            #expect(results["locality-pg"]?["throughput_ratio_vs_postgres"] is Double)
            #expect(results["locality-pg"]?["store"] as? String == "postgres")
        }
        for file in ["report.json", "table.md", "latency-cdf.svg", "latency-cdf-closed-loop.svg", "throughput-vs-offered.svg"] {
            #expect(FileManager.default.fileExists(atPath: directory + "/out/" + file), "\(file)")
        }
    }
}

/// Stdout of the child, read on its own thread.
private final class OutputBox: Sendable {
    let data = Mutex(Data())
    let done = Atomic<Bool>(false)
}
