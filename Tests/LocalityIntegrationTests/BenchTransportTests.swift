import Foundation
import Testing

/// `locality bench transport --tls`: plain and mutual TLS measured in one run, both with
/// calls and no errors, and the ratio keys in the JSON.
@Suite struct BenchTransportTests {
    @Test("bench transport --tls reports plain and TLS calls per second", .timeLimit(.minutes(2)))
    func plainAndTLSInOneRun() async throws {
        let tools = try NodeProcesses()
        defer { tools.killAll(); tools.removeDirectory() }
        let run = try await tools.runCommand(
            ["bench", "transport", "--tls", "--duration", "1", "--concurrency", "8", "--redis-requests", "0", "--json"], seconds: 60)
        #expect(run.status == 0, "\(run.output)")
        let line = try #require(run.output.split(separator: "\n").first { $0.hasPrefix("{") }, "no JSON line: \(run.output)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let plain = try #require(report["plain_calls_per_s"] as? Double)
        let tls = try #require(report["tls_calls_per_s"] as? Double)
        let ratio = try #require(report["tls_ratio"] as? Double)
        #expect(plain > 0 && tls > 0)
        #expect(abs(ratio - tls / plain) < 0.01)
        #expect(report["tls_errors"] as? Int == 0)
        #expect(report["errors"] as? Int == 0)
    }
}
