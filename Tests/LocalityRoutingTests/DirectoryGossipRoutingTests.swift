import LocalityCore
import LocalityLauncher
import LocalityMembership
import LocalityPlacement
import LocalityTransport
import NIOCore
import Synchronization
import Testing
@testable import LocalityRouting

/// Activations a node hosts, as the actor runtime would report them.
final class HostedActivations: Sendable {
    private let entries = Mutex<[DirectoryEntry]>([])
    func add(_ entry: DirectoryEntry) { entries.withLock { $0.append(entry) } }
    var all: [DirectoryEntry] { entries.withLock { $0 } }
}

/// The directory driven by real gossip: three in-process `GossipMembership` nodes feed
/// their resolvers (`MembershipRingFeed`), each directory follows its resolver and its
/// host re-registers moved activations after every view change.
enum DirectoryGossipCluster {
    struct Node {
        let id: NodeID
        let gossip: GossipMembership
        let resolver: RingOwnerResolver
        let directory: DirectoryService
        let transport: NodeTransport
        let hosted: HostedActivations
        let tasks: [Task<Void, Never>]
    }

    static func start(names: [String]) async throws -> [Node] {
        let ports = try await LoopbackPorts.free(names.count)
        try #require(ports.count == names.count)
        let swim = MembershipRoutingTests.fastSWIM
        let shell = MembershipRoutingTests.fastShell
        let settings = DirectoryServiceSettings(retryBudget: 6, retryDelay: .milliseconds(20))
        var nodes: [Node] = []
        for (index, name) in names.enumerated() {
            let id = NodeID(name: name, uid: UInt64(200 + index))
            let resolver = RingOwnerResolver()
            let router = Router(local: id, resolver: resolver, addresses: resolver, handler: NameHandler(node: id))
            let directory = DirectoryService(local: id, ring: resolver.ring, addresses: resolver, settings: settings)
            let transport = NodeTransport(
                identity: id, clusterKey: TestCluster.key, handler: TransportServiceMux(router: router, directory: directory))
            router.attach(transport)
            directory.attach(transport)
            let transportAddress = try await transport.bind(host: "127.0.0.1", port: 0)
            let gossip = try GossipMembership(
                name: name, address: NodeAddress(host: "127.0.0.1", port: ports[index]),
                seeds: index == 0 ? [] : [NodeAddress(host: "127.0.0.1", port: ports[0])], keyring: MembershipRoutingTests.gossipKey,
                metadata: MembershipRingFeed.metadata(transport: transportAddress), swim: swim, settings: shell, uid: id.uid)
            let hosted = HostedActivations()
            let run = Task {
                do { try await gossip.run() } catch { Issue.record("gossip node \(id) stopped: \(error)") }
            }
            let feed = Task { await MembershipRingFeed.run(provider: gossip, resolver: resolver) }
            let follow = Task {
                await directory.follow(resolver) { change in
                    await reRegister(hosted, on: directory, change: change)
                }
            }
            nodes.append(Node(
                id: id, gossip: gossip, resolver: resolver, directory: directory, transport: transport, hosted: hosted,
                tasks: [run, feed, follow]))
        }
        return nodes
    }

    /// The host's side of a view change: re-register moved activations, trying the
    /// failures again (a new owner may not have the view yet) a bounded number of times.
    static func reRegister(_ hosted: HostedActivations, on directory: DirectoryService, change: DirectoryRingChange) async {
        var pending = hosted.all
        for _ in 0..<5 {
            let outcomes = await directory.reRegister(
                pending, from: change.previous, to: change.current, deadline: TestCluster.deadline(.seconds(2)))
            let failed = Set(outcomes.compactMap { outcome -> String? in
                if case .failed(let key, _, _) = outcome { return key } else { return nil }
            })
            pending = pending.filter { failed.contains($0.key) }
            if pending.isEmpty || Task.isCancelled { return }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}

/// In the gossip routing suite (serialized), so at most one gossip cluster of this file
/// runs at a time.
extension MembershipRoutingTests {
    @Test func directoryRegistrationsSurviveAGracefulLeave() async throws {
        let nodes = try await DirectoryGossipCluster.start(names: ["r1", "r2", "r3"])
        defer { for node in nodes { node.tasks.forEach { $0.cancel() } } }
        let converged = await Self.eventually(within: 20) { nodes.allSatisfy { $0.directory.ring.members.count == 3 } }
        #expect(converged, "directories did not reach 3 members: \(nodes.map { $0.directory.ring.members.count })")
        guard converged else { return }

        for index in 0..<45 {
            let host = nodes[index % 3]
            let entry = DirectoryEntry(key: "session-\(index)", address: ActivationAddress(node: host.id, epoch: UInt64(index + 1)))
            #expect(try await host.directory.register(entry.key, address: entry.address, deadline: TestCluster.deadline(.seconds(10))) == entry.address)
            host.hosted.add(entry)
        }
        let ringThree = nodes[0].directory.ring
        for entry in nodes.flatMap(\.hosted.all) {
            for node in nodes {
                #expect(try await node.directory.lookup(entry.key, deadline: TestCluster.deadline(.seconds(10))) == entry.address)
            }
        }

        // r3 leaves: gossip tells the others, their directories drop it, and the hosts
        // re-register what r3's partition held.
        await nodes[2].gossip.leave()
        nodes[2].tasks.forEach { $0.cancel() }
        await nodes[2].transport.shutdown()
        let survivors = Array(nodes.prefix(2))
        let surviving = survivors.flatMap(\.hosted.all)
        #expect(surviving.contains { ringThree.owner(of: $0.key) == nodes[2].id })
        let recovered = await Self.eventually(within: 20) {
            survivors.allSatisfy { $0.directory.ring.members.count == 2 } && surviving.allSatisfy { entry in
                let owner = survivors.first { $0.id == survivors[0].directory.ring.owner(of: entry.key) }
                return owner?.directory.partitionEntry(for: entry.key) == entry.address
            }
        }
        #expect(recovered, "partitions after the leave: \(survivors.map(\.directory.partitionCount))")
        for entry in surviving {
            for node in survivors {
                #expect(try await node.directory.lookup(entry.key, deadline: TestCluster.deadline(.seconds(10))) == entry.address)
            }
        }
        for entry in nodes[2].hosted.all {
            for node in survivors {
                #expect(try await node.directory.lookup(entry.key, deadline: TestCluster.deadline(.seconds(10))) == nil)
            }
        }
        for node in survivors { await node.transport.shutdown() }
    }
}
