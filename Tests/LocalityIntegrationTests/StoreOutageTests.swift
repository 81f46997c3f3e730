import Foundation
import LocalityLauncher
import Subprocess
import SystemPackage
import Synchronization
import Testing

/// A node on a PostgreSQL of its own that the test stops for 10 s under load (a real
/// server, `scripts/services` with another port and directory): memory keeps serving,
/// writes fail fast, nothing acknowledged is lost, and service resumes by itself.
@Suite struct StoreOutageTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs `scripts/services <arguments>` for this test's own PostgreSQL; returns its
    /// stdout (through a file: the PostgreSQL it daemonizes inherits it). Through
    /// swift-subprocess: Foundation's Process never sees this script exit.
    static func services(_ arguments: [String], directory: String, port: Int) async throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("outage-\(UUID().uuidString).out")
        defer { try? FileManager.default.removeItem(at: output) }
        let descriptor = try FileDescriptor.open(
            FilePath(output.path), .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite])
        let result = try await run(
            .path("/bin/bash"), arguments: Arguments([root.appendingPathComponent("scripts/services").path] + arguments),
            environment: .inherit.updating(["LOCALITY_SERVICES_DIR": directory, "LOCALITY_PG_PORT": "\(port)"]),
            output: .fileDescriptor(descriptor, closeAfterSpawningProcess: true), error: .discarded)
        #expect(result.terminationStatus.isSuccess, "scripts/services \(arguments): \(result.terminationStatus)")
        return (try? String(contentsOf: output, encoding: .utf8)) ?? ""
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    @Test("PostgreSQL stopped for 10 s under load: reads keep their p99, writes fail fast with storage_unavailable, none acknowledged is lost, service back within 2 s",
          .timeLimit(.minutes(3)))
    func postgresOutage() async throws {
        let processes = try NodeProcesses()
        defer { processes.killAll() }
        try #require(FileManager.default.isExecutableFile(atPath: processes.binary), "missing \(processes.binary)")
        let ports = try await NodeProcesses.freePorts(3)
        try #require(ports.count == 3)
        let servicesDirectory = processes.directory.appendingPathComponent("services").path
        let exports = try await Self.services(["start", "postgres"], directory: servicesDirectory, port: ports[2])
        // The test's own PostgreSQL stops on every path, a failed expectation included.
        do {
            try await exercise(exports: exports, processes: processes, ports: ports, servicesDirectory: servicesDirectory)
        } catch {
            _ = try? await Self.services(["stop", "postgres"], directory: servicesDirectory, port: ports[2])
            throw error
        }
        _ = try? await Self.services(["stop", "postgres"], directory: servicesDirectory, port: ports[2])
        processes.removeDirectory()
    }

    /// The outage run against the started PostgreSQL (see the test's name).
    private func exercise(exports: String, processes: NodeProcesses, ports: [Int], servicesDirectory: String) async throws {
        let url = try #require(exports.split(separator: "\n").first { $0.hasPrefix("export LOCALITY_POSTGRES_URL=") }
            .map { String($0.dropFirst("export LOCALITY_POSTGRES_URL=".count)) })
        let keyFile = try processes.writeKeyFile("cluster.key")
        try processes.start(name: "solo", port: ports[0], seeds: [], keyFile: keyFile, extraArguments: [
            "--transport", "127.0.0.1:0", "--http", "127.0.0.1:\(ports[1])", "--store", "\(url)?table=outage",
        ])
        let http = ports[1]
        let client = HTTPConnections()
        defer { client.closeAll() }
        let up = await client.waitUntilReady(port: http)
        try #require(up, "the node never became ready:\n\(processes.log("solo"))")

        let counters = 50
        var acknowledged = [Int](repeating: 0, count: counters)
        for index in 0..<counters {
            let reply = try await client.post(port: http, "/v1/actors/counter/c\(index)/increment", #"{"by":1}"#)
            try #require(reply.status == 200, "\(reply.status) \(reply.text)")
            acknowledged[index] += 1
        }

        /// Reads (one task) and writes (another) for `seconds`; returns read latencies, write latencies and outcomes.
        func load(seconds: Double) async -> (reads: [Double], readErrors: Int, writes: [Double], writeCodes: [String: Int], acked: [Int], unknown: [Int]) {
            let stop = ContinuousClock.now + .seconds(seconds)
            async let reading: ([Double], Int) = {
                let connections = HTTPConnections()
                defer { connections.closeAll() }
                var latencies: [Double] = []
                var errors = 0
                var index = 0
                while ContinuousClock.now < stop {
                    let start = ContinuousClock.now
                    let reply = try? await connections.post(port: http, "/v1/actors/counter/c\(index % counters)/value", "{}", timeout: .seconds(10))
                    if reply?.status == 200 { latencies.append((ContinuousClock.now - start) / .seconds(1)) } else { errors += 1 }
                    index += 1
                }
                return (latencies, errors)
            }()
            async let writing: ([Double], [String: Int], [Int], [Int]) = {
                let connections = HTTPConnections()
                defer { connections.closeAll() }
                var latencies: [Double] = []
                var codes: [String: Int] = [:]
                var acked = [Int](repeating: 0, count: counters)
                var unknown = [Int](repeating: 0, count: counters)
                var index = 0
                while ContinuousClock.now < stop {
                    let start = ContinuousClock.now
                    let reply = try? await connections.post(port: http, "/v1/actors/counter/c\(index % counters)/increment", #"{"by":1}"#, timeout: .seconds(10))
                    latencies.append((ContinuousClock.now - start) / .seconds(1))
                    if reply?.status == 200 { acked[index % counters] += 1 }
                    // 503 is "not applied"; anything else but success may have run.
                    if reply?.status != 200 && reply?.status != 503 { unknown[index % counters] += 1 }
                    codes[reply.map { $0.status == 200 ? "ok" : "\($0.status) \($0.errorCode ?? "?")" } ?? "no answer", default: 0] += 1
                    index += 1
                    try? await Task.sleep(for: .milliseconds(20))
                }
                return (latencies, codes, acked, unknown)
            }()
            let (reads, readErrors) = await reading
            let (writes, codes, acked, unknown) = await writing
            return (reads, readErrors, writes, codes, acked, unknown)
        }

        let before = await load(seconds: 3)
        for index in 0..<counters { acknowledged[index] += before.acked[index] }
        _ = try await Self.services(["stop", "postgres"], directory: servicesDirectory, port: ports[2])
        let during = await load(seconds: 10)
        for index in 0..<counters { acknowledged[index] += during.acked[index] }
        let readyDuring = try await client.get(port: http, "/readyz")
        _ = try await Self.services(["start", "postgres"], directory: servicesDirectory, port: ports[2])
        let back = ContinuousClock.now
        var recovered: Duration?
        var probe = 0
        while recovered == nil, ContinuousClock.now - back < .seconds(10) {
            let reply = try? await client.post(port: http, "/v1/actors/counter/c\(probe % counters)/increment", #"{"by":1}"#)
            if reply?.status == 200 {
                acknowledged[probe % counters] += 1
                recovered = ContinuousClock.now - back
            } else {
                try await Task.sleep(for: .milliseconds(20))
            }
            probe += 1
        }

        let baselineP99 = Self.percentile(before.reads, 0.99)
        let outageP99 = Self.percentile(during.reads, 0.99)
        print("""
            store outage: reads p99 \(String(format: "%.2f", baselineP99 * 1000)) ms before, \(String(format: "%.2f", outageP99 * 1000)) ms during \
            (\(during.reads.count) reads, \(during.readErrors) failed); writes during \(during.writeCodes), slowest \
            \(String(format: "%.0f", (during.writes.max() ?? 0) * 1000)) ms; /readyz during \(readyDuring.status); \
            back \(recovered.map { "\($0)" } ?? "never") after PostgreSQL answered
            """)
        #expect(during.readErrors == 0, "reads of live actors failed during the outage")
        #expect(outageP99 <= 2 * baselineP99 + 0.002, "read p99 \(outageP99) s during vs \(baselineP99) s before")
        // Writes handed to the store as it went away may have committed (504 outcome_unknown);
        // every later one is refused at once.
        #expect(Set(during.writeCodes.keys).isSubset(of: ["ok", "503 storage_unavailable", "504 outcome_unknown"]), "\(during.writeCodes)")
        #expect((during.writeCodes["504 outcome_unknown"] ?? 0) <= 2, "\(during.writeCodes)")
        #expect((during.writeCodes["503 storage_unavailable"] ?? 0) > 0)
        #expect((during.writes.max() ?? 0) < 5, "a write took longer than its 5 s deadline")
        #expect(readyDuring.status == 503)
        let recovery = try #require(recovered, "no write succeeded within 10 s of PostgreSQL's return:\n\(processes.log("solo").suffix(3000))")
        #expect(recovery <= .seconds(2))

        // Nothing acknowledged was lost, and nothing refused (503) was stored:
        // acknowledged ≤ stored ≤ acknowledged + outcome unknown, for every counter.
        for index in 0..<counters {
            let reply = try await client.post(port: http, "/v1/actors/counter/c\(index)/storedValue", "{}")
            let stored = Int(reply.text) ?? -1
            let unknown = before.unknown[index] + during.unknown[index]
            #expect(reply.status == 200 && stored >= acknowledged[index] && stored <= acknowledged[index] + unknown,
                    "c\(index): stored \(reply.text), acknowledged \(acknowledged[index]), outcome unknown \(unknown)")
        }
        processes.signal("solo", SIGTERM)
        #expect(await processes.waitForExit("solo", seconds: 30) == 0)
    }
}
