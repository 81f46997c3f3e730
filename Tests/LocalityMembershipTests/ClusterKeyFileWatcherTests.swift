import Foundation
import LocalityCore
import MetricsTestKit
import Testing
@testable import LocalityMembership

@Suite struct ClusterKeyFileWatcherTests {
    static let old = String(repeating: "11", count: 32)
    static let new = String(repeating: "22", count: 32)

    /// A fresh key file holding `text`, in its own temporary directory.
    static func keyFile(_ text: String) throws -> String {
        let directory = NSTemporaryDirectory() + "locality-keys-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/cluster.key"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func keyBytes(_ hex: String) -> [UInt8] { try! ClusterKeyring.decodeKeyText(hex) }

    @Test func changedKeysAreAppliedAndBadFilesRefusedKeepingTheKeysInForce() throws {
        let path = try Self.keyFile("\(Self.old)\n")
        let shared = SharedClusterKeyring(try ClusterKeyring(contentsOfFile: path))
        let metrics = TestMetrics()
        let watcher = ClusterKeyFileWatcher(path: path, keyring: shared, interval: .milliseconds(10), metricsFactory: metrics)
        func reloads(_ result: String) throws -> Int64 {
            try metrics.expectCounter("locality_cluster_key_reloads_total", [("result", result)]).totalValue
        }

        #expect(watcher.check() == .sameKeys)  // the first check compares keys
        #expect(watcher.check() == .unchanged)
        try "\(Self.old)\n\(Self.new)\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(watcher.check() == .applied(generation: 2))
        #expect(shared.current.accepted.map { $0.withUnsafeBytes { Array($0) } } == Self.keyBytes(Self.new))
        #expect(watcher.check() == .unchanged)

        // Bad new files: the keys in force stay, each distinct bad content is counted once.
        for bad in ["", "0011\n", "\(Self.new)\n\(Self.old)\n\(Self.old)\n", "not a key!\n"] {
            try bad.write(toFile: path, atomically: true, encoding: .utf8)
            guard case .refused = watcher.check() else {
                Issue.record("\(bad.debugDescription) was not refused")
                continue
            }
            #expect(watcher.check() == .unchanged)
            #expect(shared.generation == 2)
            #expect(shared.current.primary.withUnsafeBytes { Array($0) } == Self.keyBytes(Self.old))
        }
        try FileManager.default.removeItem(atPath: path)
        guard case .refused = watcher.check() else {
            Issue.record("a missing file was not refused")
            return
        }
        #expect(try reloads("refused") == 5)

        // A comment changes the bytes, not the keys.
        try "# rotation step 2\n\(Self.new)\n\(Self.old)\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(watcher.check() == .applied(generation: 3))
        try "# rotation step 2, edited\n\(Self.new)\n\(Self.old)\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(watcher.check() == .sameKeys)
        #expect(shared.current.primary.withUnsafeBytes { Array($0) } == Self.keyBytes(Self.new))
        #expect(try reloads("applied") == 2)
        #expect(try metrics.expectGauge("locality_cluster_key_generation").lastValue == 3)
    }

    @Test func aChangeBeforeTheFirstCheckIsApplied() throws {
        let path = try Self.keyFile(Self.old)
        let shared = SharedClusterKeyring(try ClusterKeyring(contentsOfFile: path))
        try Self.new.write(toFile: path, atomically: true, encoding: .utf8)
        let watcher = ClusterKeyFileWatcher(path: path, keyring: shared)
        #expect(watcher.check() == .applied(generation: 2))
    }

    @Test func theRunningWatcherPicksUpAChangeAndStopsWhenCancelled() async throws {
        let path = try Self.keyFile(Self.old)
        let shared = SharedClusterKeyring(try ClusterKeyring(contentsOfFile: path))
        let watcher = ClusterKeyFileWatcher(path: path, keyring: shared, interval: .milliseconds(20))
        let running = Task { try await watcher.run() }
        try Self.new.write(toFile: path, atomically: true, encoding: .utf8)
        var generation: UInt64 = 1
        for _ in 0..<600 where generation == 1 {
            try await Task.sleep(for: .milliseconds(50))
            generation = shared.generation
        }
        #expect(generation == 2)
        #expect(shared.current.primary.withUnsafeBytes { Array($0) } == Self.keyBytes(Self.new))
        running.cancel()
        try await running.value
    }
}
