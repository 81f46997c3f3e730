import Distributed
import Foundation
import LocalityActors
import LocalityCore
import LocalityLauncher
import LocalityMembership
import LocalityServer
import Logging
import ServiceLifecycle
import Testing

/// A kind defined by the test program itself, as a user's service would.
distributed actor Whereabouts: VirtualActor {
    typealias ActorSystem = ClusterSystem

    init(actorSystem: ClusterSystem, id: VirtualActorID) {
        self.actorSystem = actorSystem
    }

    /// The name of the node this activation runs on.
    distributed func node() -> String { actorSystem.node.name }
}

/// `LocalityNode`: a program's own kinds hosted by nodes built from configuration values,
/// typed calls routed to the owner, and the kinds a node refuses.
@Suite struct LocalityNodeTests {
    static let key = try! ClusterKeyring(primaryBytes: Array(repeating: 7, count: 32))
    static let kinds = [ActorKind(Whereabouts.self, name: "whereabouts") { id, system in Whereabouts(actorSystem: system, id: id) }]

    func configuration(_ name: String, port: Int, seeds: [Int]) -> NodeConfiguration {
        var configuration = NodeConfiguration(name: name, bind: NodeAddress(host: "127.0.0.1", port: port), keyring: Self.key)
        configuration.seeds = seeds.map { NodeAddress(host: "127.0.0.1", port: $0) }
        configuration.transport = NodeAddress(host: "127.0.0.1", port: 0)
        configuration.store = .memory
        configuration.swim.probeInterval = .milliseconds(200)
        configuration.swim.gossipInterval = .milliseconds(50)
        return configuration
    }

    @Test(.timeLimit(.minutes(1)))
    func typedCallsFromOneNodeRunOnTheirOwnersAcrossTheCluster() async throws {
        let ports = try await LoopbackPorts.free(2)
        try #require(ports.count == 2)
        let first = try await LocalityNode.start(configuration("first", port: ports[0], seeds: []), kinds: Self.kinds)
        let second = try await LocalityNode.start(configuration("second", port: ports[1], seeds: [ports[0]]), kinds: Self.kinds)
        let group = ServiceGroup(configuration: .init(services: [.init(service: first), .init(service: second)], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var joined = false
            for _ in 0..<200 where !joined {
                joined = await first.membership.members().filter { $0.status == .alive }.count == 2
                if !joined { try await Task.sleep(for: .milliseconds(50)) }
            }
            try #require(joined, "the second node never joined")
            // The ring follows membership a moment later; then every key lands on its owner.
            var seen = Set<String>()
            for attempt in 0..<100 where seen.count < 2 {
                for key in 0..<20 {
                    if let name = try? await first.actor(Whereabouts.self, id: "k\(attempt)-\(key)").node() { seen.insert(name) }
                }
                if seen.count < 2 { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(seen == ["first", "second"], "keys ran on \(seen)")
            #expect(first.system.activationCount > 0 && second.system.activationCount > 0)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func aKindRegisteredTwiceOrNamedOutsideAGatewayPathIsRefused() async throws {
        let configuration = configuration("solo", port: 1, seeds: [])
        let twice = Self.kinds + Self.kinds
        await #expect(throws: LocalityError.self) { try await LocalityNode.start(configuration, kinds: twice) }
        do {
            _ = try await LocalityNode.start(configuration, kinds: twice)
        } catch let error as LocalityError {
            #expect(error.message.contains("'whereabouts' is registered twice"))
        }
        for bad in ["", "carts/v2", "cart cart", "caddie?", String(repeating: "k", count: 65)] {
            let kinds = [ActorKind(Whereabouts.self, name: bad) { id, system in Whereabouts(actorSystem: system, id: id) }]
            do {
                _ = try await LocalityNode.start(configuration, kinds: kinds)
                Issue.record("kind name '\(bad)' was accepted")
            } catch let error as LocalityError {
                #expect(error.code == .badRequest)
                #expect(error.message.contains("cannot be carried in a gateway path"))
            }
        }
    }
}
