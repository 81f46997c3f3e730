import LocalityCore
import LocalityLauncher
import LocalityMembership
import NIOCore
import Testing
@testable import LocalityRouting
@testable import LocalityTransport

/// Routing driven by real gossip: three in-process `GossipMembership` nodes on loopback
/// advertise their transport addresses in metadata, and `MembershipRingFeed` keeps each
/// router's ring in step with what its node's gossip sees.
@Suite("Routing follows gossip membership", .serialized, .timeLimit(.minutes(1)))
struct MembershipRoutingTests {
    static let gossipKey = try! ClusterKeyring(primaryBytes: Array(repeating: 9, count: 32))

    struct GossipNode {
        let node: TestNode
        let gossip: GossipMembership
        let resolver: RingOwnerResolver
        let tasks: [Task<Void, Never>]
    }

    /// SWIM at test speed.
    static var fastSWIM: SWIMSettings {
        var swim = SWIMSettings()
        swim.probeInterval = .milliseconds(200)
        swim.probeTimeout = .milliseconds(100)
        swim.gossipInterval = .milliseconds(50)
        // Anti-entropy at test speed: a gossip update lost on a loaded machine is healed
        // by the next push-pull, as in production, only sooner than the 30 s default.
        swim.pushPullInterval = .seconds(1)
        return swim
    }

    /// The gossip shell at test speed.
    static var fastShell: GossipSettings {
        var shell = GossipSettings()
        shell.leaveGracePeriod = .milliseconds(300)
        shell.joinRetryInterval = .milliseconds(200)
        return shell
    }

    static func start(names: [String]) async throws -> [GossipNode] {
        let swim = fastSWIM
        let shell = fastShell
        // Transports first: they bind port 0, and the kernel could otherwise hand one of
        // them a gossip port that was free a moment earlier.
        var routed: [TestNode] = []
        var resolvers: [RingOwnerResolver] = []
        for (index, name) in names.enumerated() {
            let id = NodeID(name: name, uid: UInt64(100 + index))
            let resolver = RingOwnerResolver()
            let router = Router(local: id, resolver: resolver, addresses: resolver, handler: NameHandler(node: id))
            let transport = NodeTransport(identity: id, clusterKey: TestCluster.key, handler: router)
            router.attach(transport)
            let transportAddress = try await transport.bind(host: "127.0.0.1", port: 0)
            routed.append(TestNode(id: id, transport: transport, router: router, address: transportAddress))
            resolvers.append(resolver)
        }
        let ports = try await LoopbackPorts.free(names.count)
        try #require(ports.count == names.count)
        var nodes: [GossipNode] = []
        for (index, node) in routed.enumerated() {
            let gossip = try GossipMembership(
                name: node.id.name, address: NodeAddress(host: "127.0.0.1", port: ports[index]),
                seeds: index == 0 ? [] : [NodeAddress(host: "127.0.0.1", port: ports[0])], keyring: gossipKey,
                metadata: MembershipRingFeed.metadata(transport: node.address), swim: swim, settings: shell, uid: node.id.uid)
            let resolver = resolvers[index]
            let run = Task {
                do { try await gossip.run() } catch { Issue.record("gossip node \(node.id) stopped: \(error)") }
            }
            let feed = Task { await MembershipRingFeed.run(provider: gossip, resolver: resolver) }
            nodes.append(GossipNode(node: node, gossip: gossip, resolver: resolver, tasks: [run, feed]))
        }
        return nodes
    }

    static func eventually(within seconds: Double, _ condition: () -> Bool) async -> Bool {
        for _ in 0..<Int(seconds * 20) {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    @Test func metadataCarriesTheTransportAddressBesideOtherPairs() {
        let address = NodeAddress(host: "127.0.0.1", port: 7101)
        let metadata = MembershipRingFeed.metadata(transport: address, extra: ["zone": "a"])
        #expect(String(decoding: metadata, as: UTF8.self) == "transport=127.0.0.1:7101,zone=a")
        #expect(MembershipRingFeed.transportAddress(in: metadata) == address)
        #expect(MembershipRingFeed.transportAddress(in: Array("zone=a".utf8)) == nil)
        #expect(MembershipRingFeed.transportAddress(in: Array("transport=nonsense".utf8)) == nil)
    }

    @Test func onlyAliveAndSuspectMembersWithATransportAreRoutable() {
        let address = NodeAddress(host: "127.0.0.1", port: 1)
        let metadata = MembershipRingFeed.metadata(transport: NodeAddress(host: "127.0.0.1", port: 2))
        let members = MemberStatus.allCases.enumerated().map { index, status in
            MemberState(id: NodeID(name: "\(status)", uid: UInt64(index)), address: address, incarnation: 0, status: status, metadata: metadata)
        } + [MemberState(id: NodeID(name: "bare", uid: 9), address: address, incarnation: 0, status: .alive)]
        #expect(Set(MembershipRingFeed.routableMembers(members).keys.map(\.name)) == ["alive", "suspect"])
    }

    @Test func requestsReachTheOwnerAndFollowAGracefulLeave() async throws {
        let nodes = try await Self.start(names: ["g1", "g2", "g3"])
        defer { for node in nodes { node.tasks.forEach { $0.cancel() } } }

        let converged = await Self.eventually(within: 20) { nodes.allSatisfy { $0.resolver.members.count == 3 } }
        #expect(converged, "rings did not reach 3 members: \(nodes.map { $0.resolver.members.count })")
        guard converged else { return }

        let keys = (0..<60).map { "user-\($0)" }
        for key in keys {
            let owner = try #require(nodes[0].resolver.owner(of: key))
            for entry in nodes {
                let reply = try await entry.node.router.handleOrForward(key: key, body: ByteBuffer(), deadline: TestCluster.deadline(.seconds(10)))
                #expect(String(buffer: reply) == "\(owner.name) \(key)")
            }
        }

        // g3 leaves gracefully: gossip tells the others, their feeds drop it from the ring,
        // and every key is served by g1 or g2 afterwards.
        await nodes[2].gossip.leave()
        nodes[2].tasks.forEach { $0.cancel() }
        await nodes[2].node.transport.shutdown()
        let dropped = await Self.eventually(within: 20) { nodes.prefix(2).allSatisfy { $0.resolver.members.count == 2 } }
        #expect(dropped, "g3 still on a ring: \(nodes.prefix(2).map { $0.resolver.members.keys.map(\.name) })")
        for key in keys {
            for entry in nodes.prefix(2) {
                let reply = try await entry.node.router.handleOrForward(key: key, body: ByteBuffer(), deadline: TestCluster.deadline(.seconds(10)))
                let server = String(buffer: reply).split(separator: " ").first.map(String.init)
                #expect(server == "g1" || server == "g2")
            }
        }
        for node in nodes.prefix(2) { await node.node.transport.shutdown() }
    }
}
