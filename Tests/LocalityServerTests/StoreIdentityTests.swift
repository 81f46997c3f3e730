import Foundation
import LocalityActors
import LocalityCore
import LocalityLauncher
import LocalityMembership
import LocalityServer
import LocalityStorage
import Logging
import ServiceLifecycle
import Testing

/// One ground truth per cluster: nodes gossip their store's identity; a node joining a
/// cluster that runs on another store refuses, and nodes sharing a store form a cluster.
@Suite struct StoreIdentityTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("locality-identity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func configuration(_ name: String, port: Int, seeds: [Int], sqlite file: String) -> NodeConfiguration {
        var configuration = NodeConfiguration(
            name: name, bind: NodeAddress(host: "127.0.0.1", port: port), keyring: LocalityNodeTests.key)
        configuration.seeds = seeds.map { NodeAddress(host: "127.0.0.1", port: $0) }
        configuration.transport = NodeAddress(host: "127.0.0.1", port: 0)
        configuration.store = .sqlite(path: directory.appendingPathComponent(file).path)
        configuration.swim.probeInterval = .milliseconds(200)
        configuration.swim.gossipInterval = .milliseconds(50)
        return configuration
    }

    @Test func aStoreKeepsOneIdentityAcrossOpenings() async throws {
        let location = StateStoreLocation.sqlite(path: directory.appendingPathComponent("one.sqlite").path)
        let first = try await location.open(logger: Logger(label: "test"))
        let created = try await StoreIdentity.establish(in: first)
        #expect(try await StoreIdentity.establish(in: first) == created)
        try await first.close()
        let reopened = try await location.open(logger: Logger(label: "test"))
        #expect(try await StoreIdentity.establish(in: reopened) == created)
        try await reopened.close()
        let other = try await StateStoreLocation.sqlite(path: directory.appendingPathComponent("two.sqlite").path).open(logger: Logger(label: "test"))
        #expect(try await StoreIdentity.establish(in: other) != created)
        try await other.close()
    }

    @Test(.timeLimit(.minutes(1)))
    func aNodeOnAnotherStoreRefusesToJoinAndNamesBothStores() async throws {
        let ports = try await LoopbackPorts.free(2)
        try #require(ports.count == 2)
        let founder = try await LocalityNode.start(configuration("founder", port: ports[0], seeds: [], sqlite: "a.sqlite"), kinds: LocalityNodeTests.kinds)
        let stranger = try await LocalityNode.start(
            configuration("stranger", port: ports[1], seeds: [ports[0]], sqlite: "b.sqlite"), kinds: LocalityNodeTests.kinds)
        #expect(founder.storeIdentity != stranger.storeIdentity)
        let founderGroup = ServiceGroup(configuration: .init(services: [.init(service: founder)], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await founderGroup.run() }
            do {
                try await stranger.run()
                Issue.record("the node on another store joined")
            } catch let error as LocalityError {
                #expect(error.code == .conflict)
                #expect(error.message.contains("refusing to join"))
                #expect(error.message.contains(founder.storeIdentity) && error.message.contains(stranger.storeIdentity))
                #expect(error.message.contains("--store postgres://"))
            }
            // The founder saw the stranger but never put it on its ring: every key still runs on the founder.
            for key in 0..<20 {
                #expect(try await founder.actor(Whereabouts.self, id: "k\(key)").node() == "founder")
            }
            await founderGroup.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func nodesSharingOneSQLiteFileFormACluster() async throws {
        let ports = try await LoopbackPorts.free(2)
        try #require(ports.count == 2)
        let first = try await LocalityNode.start(configuration("first", port: ports[0], seeds: [], sqlite: "shared.sqlite"), kinds: LocalityNodeTests.kinds)
        let second = try await LocalityNode.start(
            configuration("second", port: ports[1], seeds: [ports[0]], sqlite: "shared.sqlite"), kinds: LocalityNodeTests.kinds)
        #expect(first.storeIdentity == second.storeIdentity)
        let group = ServiceGroup(configuration: .init(services: [.init(service: first), .init(service: second)], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var seen = Set<String>()
            for attempt in 0..<100 where seen.count < 2 {
                for key in 0..<20 {
                    if let name = try? await first.actor(Whereabouts.self, id: "k\(attempt)-\(key)").node() { seen.insert(name) }
                }
                if seen.count < 2 { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(seen == ["first", "second"])
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
