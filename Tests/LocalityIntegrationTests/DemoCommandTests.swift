import Foundation
import Testing

/// `locality demo` end to end: a real 3-node cluster under load, a SIGKILL halfway, the
/// acknowledged writes checked against memory and SQLite.
@Suite("locality demo", .serialized)
struct DemoCommandTests {
    @Test("a short demo exits 0, prints the table and the plot, loses no write and leaves no node behind")
    func shortDemoPasses() async throws {
        let group = try NodeProcesses()
        defer { group.killAll(); group.removeDirectory() }
        let plot = group.directory.appendingPathComponent("demo.svg").path
        let (status, output) = try await group.runCommand(
            ["demo", "--duration", "8", "--players", "200", "--clients", "8", "--plot", plot, "--keep-logs"], seconds: 150)
        #expect(status == 0, "demo failed:\n\(output)")
        #expect(output.contains("demo passed: no acknowledged write lost"), "\(output)")
        #expect(output.contains("acknowledged writes lost"))
        #expect(output.contains("latency p50 / p99 / p99.9"))
        let svg = try String(contentsOfFile: plot, encoding: .utf8)
        #expect(svg.contains("<svg") && svg.contains("p99"))
        // The demo's children were started with the demo's temporary directory in their
        // arguments (--store sqlite:<dir>/state.sqlite): none may outlive the demo.
        let kept = output.split(separator: "\n").first { $0.hasPrefix("logs kept in ") }.map { String($0.dropFirst("logs kept in ".count)) }
        let directory = try #require(kept, "the demo did not print where it kept its logs:\n\(output)")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(Self.processes(mentioning: directory).isEmpty, "node processes outlived the demo")
    }

    /// Pids of running processes whose command line contains `text`.
    static func processes(mentioning text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            guard let pid = Int32(entry),
                  let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                  String(decoding: data, as: UTF8.self).contains(text)
            else { return nil }
            return pid
        }
    }
}
