import LocalityCore
import LocalityPlacement
import LocalityTransport
import NIOCore
import Synchronization
import Testing
@testable import LocalityRouting

/// Conflicts reported by the directory services of a test cluster.
final class ConflictLog: Sendable {
    private let conflicts = Mutex<[DirectoryConflict]>([])
    func record(_ conflict: DirectoryConflict) { conflicts.withLock { $0.append(conflict) } }
    var all: [DirectoryConflict] { conflicts.withLock { $0 } }
}

/// One node: a transport serving a router and a directory service, with its own view.
struct DirectoryTestNode {
    let id: NodeID
    let transport: NodeTransport
    let router: Router
    let directory: DirectoryService
    let resolver: RingOwnerResolver
    let address: NodeAddress
}

enum DirectoryTestCluster {
    static func start(names: [String], conflicts: ConflictLog = ConflictLog()) async throws -> [DirectoryTestNode] {
        var nodes: [DirectoryTestNode] = []
        for (index, name) in names.enumerated() {
            let id = NodeID(name: name, uid: UInt64(index + 1))
            let resolver = RingOwnerResolver()
            let router = Router(local: id, resolver: resolver, addresses: resolver, handler: NameHandler(node: id))
            let directory = DirectoryService(local: id, ring: resolver.ring, addresses: resolver, onConflict: { conflicts.record($0) })
            let transport = NodeTransport(
                identity: id, clusterKey: TestCluster.key, handler: TransportServiceMux(router: router, directory: directory))
            router.attach(transport)
            directory.attach(transport)
            let address = try await transport.bind(host: "127.0.0.1", port: 0)
            nodes.append(DirectoryTestNode(id: id, transport: transport, router: router, directory: directory, resolver: resolver, address: address))
        }
        return nodes
    }

    static func members(_ nodes: [DirectoryTestNode]) -> [NodeID: NodeAddress] {
        Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, $0.address) })
    }

    /// Puts `members` in force on each of `nodes` in order: resolver, then directory.
    static func apply(_ members: [NodeID: NodeAddress], to nodes: [DirectoryTestNode]) async -> [DirectoryRingChange] {
        var changes: [DirectoryRingChange] = []
        for node in nodes {
            node.resolver.update(members)
            changes.append(await node.directory.updateRing(node.resolver.ring))
        }
        return changes
    }

    static func shutdown(_ nodes: [DirectoryTestNode]) async {
        for node in nodes { await node.transport.shutdown() }
    }

    static func deadline() -> NIODeadline { TestCluster.deadline(.seconds(10)) }
}

@Suite("Directory over loopback", .serialized, .timeLimit(.minutes(1)))
struct DirectoryServiceTests {
    @Test func everyNodeLooksUpTheSameAddressAndACachedLookupSendsNothing() async throws {
        let nodes = try await DirectoryTestCluster.start(names: ["d1", "d2", "d3"])
        _ = await DirectoryTestCluster.apply(DirectoryTestCluster.members(nodes), to: nodes)
        let ring = nodes[0].resolver.ring
        var expected: [String: ActivationAddress] = [:]
        for index in 0..<30 {
            let host = nodes[index % 3]
            let key = "actor-\(index)"
            let address = ActivationAddress(node: host.id, epoch: UInt64(index + 1))
            #expect(try await host.directory.register(key, address: address, deadline: DirectoryTestCluster.deadline()) == address)
            expected[key] = address
        }
        // A key registered by d2 and owned by d3: d1 has never heard of it.
        let probe = try #require(expected.keys.sorted().first { key in
            expected[key]?.node == nodes[1].id && ring.owner(of: key) == nodes[2].id
        })
        let before = nodes[0].directory.stats
        #expect(try await nodes[0].directory.lookup(probe, deadline: DirectoryTestCluster.deadline()) == expected[probe])
        let afterFirst = nodes[0].directory.stats
        #expect(afterFirst.remoteRequests == before.remoteRequests + 1)
        #expect(try await nodes[0].directory.lookup(probe, deadline: DirectoryTestCluster.deadline()) == expected[probe])
        let afterSecond = nodes[0].directory.stats
        #expect(afterSecond.remoteRequests == afterFirst.remoteRequests, "a cached lookup sent a message")
        #expect(afterSecond.cacheHits == afterFirst.cacheHits + 1)

        for (key, address) in expected {
            for node in nodes {
                #expect(try await node.directory.lookup(key, deadline: DirectoryTestCluster.deadline()) == address, "\(node.id.name) \(key)")
            }
            let owner = try #require(nodes.first { $0.id == ring.owner(of: key) })
            #expect(owner.directory.partitionEntry(for: key) == address)
        }
        #expect(nodes.map(\.directory.partitionCount).reduce(0, +) == expected.count)
        #expect(nodes.allSatisfy { $0.directory.stats.retries == 0 && $0.directory.stats.redirects == 0 })

        // The router still answers on the same transport.
        for index in 0..<10 {
            let key = "user-\(index)"
            let reply = try await nodes[0].router.handleOrForward(key: key, body: ByteBuffer(), deadline: DirectoryTestCluster.deadline())
            #expect(String(buffer: reply) == "\(ring.owner(of: key)!.name) \(key)")
        }
        await DirectoryTestCluster.shutdown(nodes)
    }

    @Test func aSecondRegistrationGetsTheFirstActivationBack() async throws {
        let nodes = try await DirectoryTestCluster.start(names: ["d1", "d2", "d3"])
        _ = await DirectoryTestCluster.apply(DirectoryTestCluster.members(nodes), to: nodes)
        for index in 0..<12 {
            let key = "room-\(index)"
            let first = ActivationAddress(node: nodes[0].id, epoch: 1)
            #expect(try await nodes[0].directory.register(key, address: first, deadline: DirectoryTestCluster.deadline()) == first)
            for other in nodes.dropFirst() {
                let late = ActivationAddress(node: other.id, epoch: 9)
                #expect(try await other.directory.register(key, address: late, deadline: DirectoryTestCluster.deadline()) == first)
                #expect(try await other.directory.lookup(key, deadline: DirectoryTestCluster.deadline()) == first)
            }
        }
        await DirectoryTestCluster.shutdown(nodes)
    }

    @Test func unregisterWithAWrongEpochIsRefused() async throws {
        let nodes = try await DirectoryTestCluster.start(names: ["d1", "d2", "d3"])
        _ = await DirectoryTestCluster.apply(DirectoryTestCluster.members(nodes), to: nodes)
        let ring = nodes[0].resolver.ring
        for index in 0..<9 {
            let key = "cart-\(index)"
            let owner = try #require(nodes.first { $0.id == ring.owner(of: key) })
            let live = ActivationAddress(node: nodes[1].id, epoch: 5)
            _ = try await nodes[1].directory.register(key, address: live, deadline: DirectoryTestCluster.deadline())
            let stale = ActivationAddress(node: nodes[1].id, epoch: 4)
            #expect(try await nodes[0].directory.unregister(key, address: stale, deadline: DirectoryTestCluster.deadline()) == false)
            #expect(owner.directory.partitionEntry(for: key) == live)
            #expect(try await nodes[2].directory.lookup(key, deadline: DirectoryTestCluster.deadline()) == live)
            #expect(try await nodes[0].directory.unregister(key, address: live, deadline: DirectoryTestCluster.deadline()) == true)
            #expect(owner.directory.partitionEntry(for: key) == nil)
            #expect(try await nodes[0].directory.lookup(key, deadline: DirectoryTestCluster.deadline()) == nil)
        }
        await DirectoryTestCluster.shutdown(nodes)
    }

    @Test func partitionsFollowAJoinByHandOffAndACrashByReRegistration() async throws {
        let nodes = try await DirectoryTestCluster.start(names: ["d1", "d2", "d3"])
        let all = DirectoryTestCluster.members(nodes)
        var two = all
        two[nodes[2].id] = nil
        _ = await DirectoryTestCluster.apply(two, to: nodes)
        let ringTwo = nodes[0].resolver.ring
        var hosted: [NodeID: [DirectoryEntry]] = [:]
        for index in 0..<60 {
            let host = nodes[index % 2]
            let entry = DirectoryEntry(key: "player-\(index)", address: ActivationAddress(node: host.id, epoch: UInt64(index + 1)))
            #expect(try await host.directory.register(entry.key, address: entry.address, deadline: DirectoryTestCluster.deadline()) == entry.address)
            hosted[host.id, default: []].append(entry)
        }

        // d3 joins; it applies the view first so it accepts the hand-offs sent to it.
        let joined = await DirectoryTestCluster.apply(all, to: [nodes[2], nodes[0], nodes[1]])
        let ringThree = nodes[0].resolver.ring
        let movedToD3 = hosted.values.joined().filter { ringThree.owner(of: $0.key) == nodes[2].id }
        #expect(!movedToD3.isEmpty)
        #expect(joined.map(\.handedOffEntries).reduce(0, +) == movedToD3.count)
        #expect(joined.allSatisfy { $0.failedHandOffs == 0 })
        #expect(nodes[2].directory.partitionCount == movedToD3.count)
        for entry in hosted.values.joined() {
            let owner = try #require(nodes.first { $0.id == ringThree.owner(of: entry.key) })
            #expect(owner.directory.partitionEntry(for: entry.key) == entry.address)
            #expect(try await nodes[2].directory.lookup(entry.key, deadline: DirectoryTestCluster.deadline()) == entry.address)
        }
        for index in 0..<20 {
            let entry = DirectoryEntry(key: "npc-\(index)", address: ActivationAddress(node: nodes[2].id, epoch: UInt64(index + 1)))
            _ = try await nodes[2].directory.register(entry.key, address: entry.address, deadline: DirectoryTestCluster.deadline())
            hosted[nodes[2].id, default: []].append(entry)
        }

        // d3 crashes: its partition is lost, its activations are gone.
        await nodes[2].transport.shutdown()
        let survivors = Array(nodes.prefix(2))
        _ = await DirectoryTestCluster.apply(two, to: survivors)
        for entry in hosted[nodes[2].id] ?? [] {
            for node in survivors {
                #expect(try await node.directory.lookup(entry.key, deadline: DirectoryTestCluster.deadline()) == nil)
            }
        }
        let surviving = survivors.flatMap { hosted[$0.id] ?? [] }
        let lost = surviving.filter { ringThree.owner(of: $0.key) == nodes[2].id }
        #expect(!lost.isEmpty)
        for entry in lost {
            let owner = try #require(survivors.first { $0.id == ringTwo.owner(of: entry.key) })
            #expect(owner.directory.partitionEntry(for: entry.key) == nil, "\(entry.key) survived its partition")
        }
        // The hosts re-register what the dead partition held.
        var outcomes: [DirectoryReRegistration] = []
        for node in survivors {
            outcomes += await node.directory.reRegister(hosted[node.id] ?? [], from: ringThree, to: ringTwo, deadline: DirectoryTestCluster.deadline())
        }
        #expect(outcomes.count == lost.count)
        #expect(outcomes.allSatisfy { if case .kept = $0 { true } else { false } })
        for entry in surviving {
            let owner = try #require(survivors.first { $0.id == ringTwo.owner(of: entry.key) })
            #expect(owner.directory.partitionEntry(for: entry.key) == entry.address)
            for node in survivors {
                #expect(try await node.directory.lookup(entry.key, deadline: DirectoryTestCluster.deadline()) == entry.address)
            }
        }
        await DirectoryTestCluster.shutdown(survivors)
    }

    @Test func aHandOffMeetingANewerRegistrationReportsTheLoser() async throws {
        let log = ConflictLog()
        let nodes = try await DirectoryTestCluster.start(names: ["d1", "d2", "d3"], conflicts: log)
        let all = DirectoryTestCluster.members(nodes)
        var two = all
        two[nodes[2].id] = nil
        let ringTwo = HashRing(members: Array(two.keys))
        let ringThree = HashRing(members: Array(all.keys))
        let key = try #require((0..<1000).map { "match-\($0)" }.first {
            ringTwo.owner(of: $0) == nodes[0].id && ringThree.owner(of: $0) == nodes[2].id
        })
        _ = await DirectoryTestCluster.apply(two, to: [nodes[0], nodes[1]])
        let old = ActivationAddress(node: nodes[0].id, epoch: 1)
        _ = try await nodes[0].directory.register(key, address: old, deadline: DirectoryTestCluster.deadline())
        // d3 sees the new view first and registers its own activation before the hand-off.
        _ = await DirectoryTestCluster.apply(all, to: [nodes[2]])
        let new = ActivationAddress(node: nodes[2].id, epoch: 1)
        #expect(try await nodes[2].directory.register(key, address: new, deadline: DirectoryTestCluster.deadline()) == new)
        _ = await DirectoryTestCluster.apply(all, to: [nodes[0], nodes[1]])
        #expect(log.all == [DirectoryConflict(key: key, winner: new, loser: old)])
        #expect(nodes[2].directory.stats.conflicts == 1)
        #expect(try await nodes[0].directory.lookup(key, deadline: DirectoryTestCluster.deadline()) == new)
        await DirectoryTestCluster.shutdown(nodes)
    }

    /// Three nodes; d2 and d3 hold the full view, d1 the old one without d3. The key is
    /// owned by d2 in the old view and by d3 in the new one.
    static func staleViewOnD1(keyPrefix: String) async throws -> ([DirectoryTestNode], [NodeID: NodeAddress], String) {
        let nodes = try await DirectoryTestCluster.start(names: ["d1", "d2", "d3"])
        let all = DirectoryTestCluster.members(nodes)
        var two = all
        two[nodes[2].id] = nil
        let ringTwo = HashRing(members: Array(two.keys))
        let ringThree = HashRing(members: Array(all.keys))
        let key = try #require((0..<1000).map { "\(keyPrefix)-\($0)" }.first {
            ringTwo.owner(of: $0) == nodes[1].id && ringThree.owner(of: $0) == nodes[2].id
        })
        _ = await DirectoryTestCluster.apply(all, to: [nodes[2], nodes[1]])
        _ = await DirectoryTestCluster.apply(two, to: [nodes[0]])
        return (nodes, all, key)
    }

    @Test func aStaleViewIsRedirectedByNotOwner() async throws {
        let (nodes, all, key) = try await Self.staleViewOnD1(keyPrefix: "stale")
        // d2 and d3 have the new view; d1 still the old one, in which d2 owns the key.
        nodes[0].resolver.update(all)
        let address = ActivationAddress(node: nodes[0].id, epoch: 3)
        #expect(try await nodes[0].directory.register(key, address: address, deadline: DirectoryTestCluster.deadline()) == address)
        #expect(nodes[0].directory.stats.redirects == 1)
        #expect(nodes[0].directory.stats.retries == 0)
        #expect(nodes[0].directory.stats.remoteRequests == 2)
        #expect(nodes[2].directory.partitionEntry(for: key) == address)
        await DirectoryTestCluster.shutdown(nodes)
    }

    @Test func aRefusalThatCannotBeFollowedEndsInNotOwnerOnceTheBudgetIsSpent() async throws {
        let (nodes, _, key) = try await Self.staleViewOnD1(keyPrefix: "lost")
        // d1 does not know d3 at all, so it cannot follow d2's hint.
        let address = ActivationAddress(node: nodes[0].id, epoch: 1)
        do {
            _ = try await nodes[0].directory.register(key, address: address, deadline: DirectoryTestCluster.deadline())
            Issue.record("a register no reachable owner accepted succeeded")
        } catch let error as LocalityError {
            #expect(error.code == .notOwner)
        }
        let stats = nodes[0].directory.stats
        #expect(stats.retries == DirectoryServiceSettings().retryBudget)
        #expect(stats.redirects == 0)
        #expect(stats.remoteRequests == DirectoryServiceSettings().retryBudget + 1)
        #expect(nodes[2].directory.partitionEntry(for: key) == nil)
        await DirectoryTestCluster.shutdown(nodes)
    }

    @Test func moveRepointsTheEntryAndTheCallersCache() async throws {
        let nodes = try await DirectoryTestCluster.start(names: ["d1", "d2", "d3"])
        _ = await DirectoryTestCluster.apply(DirectoryTestCluster.members(nodes), to: nodes)
        let ring = nodes[0].resolver.ring
        let key = try #require((0..<1000).map { "hot-\($0)" }.first { ring.owner(of: $0) == nodes[2].id })
        let first = ActivationAddress(node: nodes[1].id, epoch: 1)
        _ = try await nodes[1].directory.register(key, address: first, deadline: DirectoryTestCluster.deadline())
        #expect(try await nodes[0].directory.lookup(key, deadline: DirectoryTestCluster.deadline()) == first)
        let second = ActivationAddress(node: nodes[0].id, epoch: 2)
        #expect(try await nodes[0].directory.move(key, to: second, deadline: DirectoryTestCluster.deadline()) == first)
        #expect(nodes[0].directory.cachedAddress(of: key) == second)
        #expect(nodes[2].directory.partitionEntry(for: key) == second)
        await #expect(throws: LocalityError(.actorNotFound, "no live activation of absent to move")) {
            _ = try await nodes[0].directory.move("absent", to: second, deadline: DirectoryTestCluster.deadline())
        }
        await DirectoryTestCluster.shutdown(nodes)
    }

    @Test func anUnreachableOwnerEndsInUnavailableWithinTheBudget() async throws {
        let nodes = try await DirectoryTestCluster.start(names: ["d1", "d2"])
        _ = await DirectoryTestCluster.apply(DirectoryTestCluster.members(nodes), to: nodes)
        let key = try #require((0..<1000).map { "gone-\($0)" }.first { nodes[0].resolver.ring.owner(of: $0) == nodes[1].id })
        await nodes[1].transport.shutdown()
        do {
            _ = try await nodes[0].directory.lookup(key, deadline: DirectoryTestCluster.deadline())
            Issue.record("a lookup at a stopped owner succeeded")
        } catch let error as LocalityError {
            #expect(error.code == .unavailable)
        }
        #expect(nodes[0].directory.stats.retries == DirectoryServiceSettings().retryBudget)
        await DirectoryTestCluster.shutdown([nodes[0]])
    }

    @Test func followingTheResolverAppliesEveryNewRing() async throws {
        let nodes = try await DirectoryTestCluster.start(names: ["d1", "d2"])
        let follow = Task { await nodes[0].directory.follow(nodes[0].resolver) }
        defer { follow.cancel() }
        nodes[0].resolver.update(DirectoryTestCluster.members(nodes))
        var applied = false
        for _ in 0..<100 where !applied {
            applied = nodes[0].directory.ring.members.count == 2
            if !applied { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(applied)
        nodes[0].resolver.remove(nodes[1].id)
        applied = false
        for _ in 0..<100 where !applied {
            applied = nodes[0].directory.ring.members == [nodes[0].id]
            if !applied { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(applied)
        await DirectoryTestCluster.shutdown(nodes)
    }

    @Test func theMuxRefusesAPayloadNamingNoService() async throws {
        let id = NodeID(name: "m", uid: 1)
        let resolver = RingOwnerResolver()
        let router = Router(local: id, resolver: resolver, addresses: resolver, handler: NameHandler(node: id))
        let mux = TransportServiceMux(router: router, directory: DirectoryService(local: id, ring: resolver.ring, addresses: resolver))
        for payload in [ByteBuffer(), ByteBuffer(bytes: [0x42, 1, 2])] {
            await #expect(throws: LocalityError.self) {
                _ = try await mux.handle(TransportRequest(requestID: 1, peer: id, payload: payload, deadline: nil, traceparent: nil))
            }
        }
        let lookup = try DirectoryMessage.request(.lookup(key: "k")).encoded()
        let answer = try await mux.handle(TransportRequest(requestID: 2, peer: id, payload: lookup, deadline: nil, traceparent: nil))
        // The directory answered (its ring is empty, so nobody owns the key).
        #expect(try DirectoryMessage.decode(answer) == .reply(.rejected(.notOwner, owner: nil)))
    }
}
