import Foundation
import LocalityActors
import LocalityCore
import LocalityLauncher
import LocalityMembership
import LocalityServer
import Logging
import ServiceLifecycle
import Testing

/// The transport handshake follows the key file like gossip: after a rotation, a node
/// that only knows the new key calls actors on the rotated nodes and they call it.
@Suite struct LocalityNodeTransportRotationTests {
    @Test(.timeLimit(.minutes(2)))
    func aNodeWithOnlyTheNewKeyCallsAndIsCalledAfterARotation() async throws {
        let directory = NSTemporaryDirectory() + "locality-transport-rotation-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let old = String(repeating: "3c", count: 32)
        let new = String(repeating: "4d", count: 32)
        let ports = try await LoopbackPorts.free(3)
        try #require(ports.count == 3)
        func start(_ name: String, port: Int, seeds: [Int], key: String) async throws -> (LocalityNode, String) {
            let path = "\(directory)/\(name).key"
            try key.write(toFile: path, atomically: true, encoding: .utf8)
            var flags = ["name": name, "bind": "127.0.0.1:\(port)", "cluster-key-file": path, "transport": "127.0.0.1:0", "store": "memory",
                         "probe-interval-ms": "300"]
            if !seeds.isEmpty { flags["seeds"] = seeds.map { "127.0.0.1:\($0)" }.joined(separator: ",") }
            let configuration = try await NodeConfiguration.load(flags: flags, environment: [:])
            return (try await LocalityNode.start(configuration, kinds: LocalityNodeTests.kinds), path)
        }
        func waitFor(_ condition: () async -> Bool) async throws -> Bool {
            for _ in 0..<400 {
                if await condition() { return true }
                try await Task.sleep(for: .milliseconds(50))
            }
            return await condition()
        }
        let (first, firstKey) = try await start("first", port: ports[0], seeds: [], key: old)
        let (second, secondKey) = try await start("second", port: ports[1], seeds: [ports[0]], key: old)
        let group = ServiceGroup(configuration: .init(services: [.init(service: first), .init(service: second)], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(try await waitFor { await first.membership.members().filter { $0.status == .alive }.count == 2 })
            for (step, text) in ["\(old)\n\(new)\n", "\(new)\n\(old)\n", "\(new)\n"].enumerated() {
                for path in [firstKey, secondKey] { try text.write(toFile: path, atomically: true, encoding: .utf8) }
                #expect(try await waitFor { first.clusterKeys.generation == UInt64(step + 2) && second.clusterKeys.generation == UInt64(step + 2) })
            }
            let (third, _) = try await start("third", port: ports[2], seeds: [ports[0]], key: new)
            let thirdGroup = ServiceGroup(configuration: .init(services: [.init(service: third)], logger: Logger(label: "test")))
            tasks.addTask { try await thirdGroup.run() }
            #expect(try await waitFor { await third.membership.members().filter { $0.status == .alive }.count == 3 })
            // From the new node and from a rotated one, calls reach actors on every node
            // (the other nodes' over new connections, handshaken under the new keys).
            var reached = Set<String>()
            for attempt in 0..<100 where reached.count < 6 {
                for key in 0..<20 {
                    for caller in [third, first] {
                        if let name = try? await caller.actor(Whereabouts.self, id: "r\(attempt)-\(key)").node() {
                            reached.insert("\(caller.id.name)->\(name)")
                        }
                    }
                }
                if reached.count < 6 { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(reached == ["third->first", "third->second", "third->third", "first->first", "first->second", "first->third"])
            await thirdGroup.triggerGracefulShutdown()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
