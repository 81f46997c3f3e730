import Foundation
import LocalityCore
import LocalityLauncher
import LocalityMembership
import LocalityServer
import Logging
import ServiceLifecycle
import Testing

/// A node started from `cluster-key-file` puts a rewritten key file in force while it
/// runs, and keeps its keys when the new file is bad.
@Suite struct LocalityNodeKeyReloadTests {
    @Test(.timeLimit(.minutes(1)))
    func aRunningNodeReloadsItsKeyFileAndRefusesABadOne() async throws {
        let directory = NSTemporaryDirectory() + "locality-node-keys-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/cluster.key"
        let old = String(repeating: "5a", count: 32)
        let new = String(repeating: "6b", count: 32)
        try "\(old)\n".write(toFile: path, atomically: true, encoding: .utf8)
        let ports = try await LoopbackPorts.free(1)
        try #require(ports.count == 1)
        let loaded = try await NodeConfiguration.load(
            flags: ["name": "reloading", "bind": "127.0.0.1:\(ports[0])", "cluster-key-file": path, "transport": "127.0.0.1:0",
                    "store": "memory"],
            environment: [:])
        let node = try await LocalityNode.start(loaded, kinds: LocalityNodeTests.kinds)
        let group = ServiceGroup(configuration: .init(services: [.init(service: node)], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            func waitForGeneration(_ generation: UInt64) async throws -> Bool {
                for _ in 0..<400 where node.clusterKeys.generation < generation { try await Task.sleep(for: .milliseconds(50)) }
                return node.clusterKeys.generation == generation
            }
            try "\(new)\n\(old)\n".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(try await waitForGeneration(2))
            #expect(node.clusterKeys.current.primary.withUnsafeBytes { Array($0) } == (try ClusterKeyring.decodeKeyText(new)))
            // A bad file, then a good one: only the good one is applied.
            try "not a key\n".write(toFile: path, atomically: true, encoding: .utf8)
            try await Task.sleep(for: .seconds(2))
            #expect(node.clusterKeys.generation == 2)
            try "\(new)\n".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(try await waitForGeneration(3))
            #expect(node.clusterKeys.current.accepted == nil)
            // Gossip answers with the keys in force.
            let view = try await MembersQuery.fetch(
                from: NodeAddress(host: "127.0.0.1", port: ports[0]), keyring: try ClusterKeyring(fileText: new))
            #expect(view.responder.name == "reloading")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
