import Foundation
import LocalityCore
import LocalityPlacement
import LocalityRouting
import LocalityStorage
import LocalityTransport
import NIOCore
import Testing
@testable import LocalityActors

/// One node of a placement test cluster: a system whose transport serves a router and a
/// directory service, following its own resolver.
struct PlacedNode {
    let id: NodeID
    let system: ClusterSystem
    let resolver: RingOwnerResolver
    let router: Router
    let directory: DirectoryService
    let transport: NodeTransport
    let address: NodeAddress
    let follower: Task<Void, Never>?

    func stop() async {
        await system.shutdown()
        follower?.cancel()
        await transport.shutdown()
    }
}

/// N nodes on loopback sharing one state store (the database every node reads).
enum PlacedCluster {
    static let key = Array("placement-test-key".utf8)

    static func start(
        nodes count: Int, placement: ActorPlacement, store: any StateStore = MemoryStateStore(),
        clock: any LocalityClock = MonotonicClock(), settings: ActorSettings = ActorSettings()
    ) async throws -> [PlacedNode] {
        var settings = settings
        settings.placement = placement
        var nodes: [PlacedNode] = []
        for index in 0..<count {
            let id = NodeID(name: "p\(index + 1)", uid: UInt64(index + 1))
            let system = ClusterSystem(node: id, settings: settings, stateStore: store, clock: clock)
            try system.register(Counter.self, kind: "counter") { id, system in Counter(actorSystem: system, id: id) }
            let resolver = RingOwnerResolver()
            let router = Router(local: id, resolver: resolver, addresses: resolver, handler: system.callHandler)
            let directory = DirectoryService(
                local: id, ring: resolver.ring, addresses: resolver, onConflict: system.directoryConflictHandler)
            let transport = NodeTransport(identity: id, clusterKey: key, handler: TransportServiceMux(router: router, directory: directory))
            router.attach(transport)
            directory.attach(transport)
            system.attach(router: router, resolver: resolver, directory: directory)
            let address = try await transport.bind(host: "127.0.0.1", port: 0)
            nodes.append(PlacedNode(
                id: id, system: system, resolver: resolver, router: router, directory: directory, transport: transport,
                address: address, follower: system.followDirectory(resolver)))
        }
        try await apply(members(nodes), to: nodes)
        return nodes
    }

    static func members(_ nodes: [PlacedNode]) -> [NodeID: NodeAddress] {
        Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, $0.address) })
    }

    /// Puts `members` in force on `nodes` and waits until each directory follows it (hash
    /// mode has no follower: its directory gets the ring directly).
    static func apply(_ members: [NodeID: NodeAddress], to nodes: [PlacedNode]) async throws {
        for node in nodes {
            node.resolver.update(members)
            if node.follower == nil { await node.directory.updateRing(node.resolver.ring) }
        }
        try await until("directories follow the new view") { nodes.allSatisfy { $0.directory.ring == $0.resolver.ring } }
    }

    /// Polls `condition` for up to 30 s (no fixed sleeps).
    static func until(_ what: String, _ condition: () -> Bool) async throws {
        if await !Fixture.eventually(seconds: 30, condition) { Issue.record("timed out waiting until \(what)") }
    }

    /// Nodes hosting an activation of `counter/key`.
    static func hosts(of key: String, in nodes: [PlacedNode]) -> [NodeID] {
        nodes.filter { $0.system.activeIDs.contains(VirtualActorID(kind: "counter", key: key)) }.map(\.id)
    }

    static func deadline() -> NIODeadline { .now() + .seconds(10) }
}

@Suite("Actor placement through the activation directory", .serialized, .timeLimit(.minutes(3)))
struct PlacementTests {
    @Test func hashOwnerPlacementRunsOnTheRingOwnerWithoutTheDirectory() async throws {
        let nodes = try await PlacedCluster.start(nodes: 3, placement: .hashOwner)
        for index in 0..<60 {
            let counter = try nodes[index % 3].system.actor(Counter.self, id: "h\(index)")
            #expect(try await counter.increment(by: 1) == 1)
        }
        for index in 0..<60 {
            let owner = nodes[0].resolver.owner(of: "counter/h\(index)")
            #expect(PlacedCluster.hosts(of: "h\(index)", in: nodes) == [owner].compactMap { $0 })
        }
        for node in nodes {
            let stats = node.directory.stats
            #expect(stats.remoteRequests + stats.servedRemote + stats.handledLocally + stats.cacheHits == 0, "\(node.id) used the directory")
            #expect(node.directory.partitionCount == 0)
            #expect(node.system.placementStats == PlacementCounters())
        }
        #expect(nodes.map(\.router.stats.forwarded).reduce(0, +) > 0)
        for node in nodes { await node.stop() }
    }

    @Test func preferLocalActivatesOnTheCallerAndOtherNodesReachThatActivation() async throws {
        let nodes = try await PlacedCluster.start(nodes: 3, placement: .preferLocal)
        let actors = 30
        for index in 0..<actors {
            let counter = try nodes[index % 3].system.actor(Counter.self, id: "l\(index)")
            #expect(try await counter.increment(by: 1) == 1)
            #expect(PlacedCluster.hosts(of: "l\(index)", in: nodes) == [nodes[index % 3].id])
        }
        // Calls from the two other nodes reach the same activation: exactly one cluster-wide.
        for index in 0..<actors {
            for offset in 1...2 {
                let caller = nodes[(index + offset) % 3]
                #expect(try await caller.system.actor(Counter.self, id: "l\(index)").increment(by: 1) == 1 + offset)
            }
            #expect(PlacedCluster.hosts(of: "l\(index)", in: nodes) == [nodes[index % 3].id])
            let recorded = try await nodes[(index + 1) % 3].directory.lookup("counter/l\(index)", deadline: PlacedCluster.deadline())
            #expect(recorded?.node == nodes[index % 3].id)
        }
        #expect(nodes.map(\.system.activationCount).reduce(0, +) == actors)
        #expect(nodes.map(\.system.placementStats.registered).reduce(0, +) == actors)
        #expect(nodes.map(\.system.placementStats.refusedActivations).reduce(0, +) == 0)
        #expect(nodes.map(\.system.placementStats.hosted) == [10, 10, 10])
        for node in nodes { await node.stop() }
    }

    @Test func concurrentFirstCallsFromEveryNodeMakeOneActivation() async throws {
        let nodes = try await PlacedCluster.start(nodes: 3, placement: .preferLocal)
        let actors = 20
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<actors {
                for node in nodes {
                    group.addTask { _ = try await node.system.actor(Counter.self, id: "race\(index)").increment(by: 1) }
                }
            }
            try await group.waitForAll()
        }
        for index in 0..<actors {
            #expect(PlacedCluster.hosts(of: "race\(index)", in: nodes).count == 1, "race\(index)")
            #expect(try await nodes[0].system.actor(Counter.self, id: "race\(index)").total() == 3)
        }
        for node in nodes { await node.stop() }
    }

    /// The assignment of `actors` new actors, all first called from p1, under two-choices.
    private func twoChoicesAssignment(actors: Int, seed: UInt64) async throws -> [String: NodeID] {
        let nodes = try await PlacedCluster.start(nodes: 3, placement: .twoChoices(seed: seed))
        var assignment: [String: NodeID] = [:]
        for index in 0..<actors {
            _ = try await nodes[0].system.actor(Counter.self, id: "t\(index)").increment(by: 1)
        }
        for index in 0..<actors {
            // A call from another node reaches the same activation.
            #expect(try await nodes[index % 3].system.actor(Counter.self, id: "t\(index)").total() == 1)
            let hosts = PlacedCluster.hosts(of: "t\(index)", in: nodes)
            #expect(hosts.count == 1, "t\(index) on \(hosts)")
            assignment["t\(index)"] = hosts.first
        }
        for node in nodes { await node.stop() }
        return assignment
    }

    @Test func twoChoicesSpreadsNewActorsEvenlyAndReplaysFromItsSeed() async throws {
        let actors = 300
        let assignment = try await twoChoicesAssignment(actors: actors, seed: 42)
        var perNode: [NodeID: Int] = [:]
        for node in assignment.values { perNode[node, default: 0] += 1 }
        #expect(perNode.count == 3)
        let mean = Double(actors) / 3
        let maxOverMean = Double(perNode.values.max() ?? 0) / mean
        #expect(maxOverMean <= 1.05, "max/mean \(maxOverMean): \(perNode)")
        print("two-choices: \(actors) actors from one node over 3 nodes: \(perNode.values.sorted()), max/mean \(maxOverMean)")
        #expect(try await twoChoicesAssignment(actors: actors, seed: 42) == assignment, "same seed, other placement")
    }

    @Test func afterTheHostStopsTheNextCallActivatesOnALiveNodeFromTheStore() async throws {
        let store = MemoryStateStore()
        let nodes = try await PlacedCluster.start(nodes: 3, placement: .preferLocal, store: store)
        let hostNode = nodes[1]
        let counter = try hostNode.system.actor(Counter.self, id: "survivor")
        for _ in 0..<5 { _ = try await counter.increment(by: 1) }
        #expect(PlacedCluster.hosts(of: "survivor", in: nodes) == [hostNode.id])

        // p2 dies: the transport goes first (nothing is unregistered), then the others drop it.
        await hostNode.transport.shutdown()
        let survivors = [nodes[0], nodes[2]]
        try await PlacedCluster.apply(PlacedCluster.members(survivors), to: survivors)
        #expect(try await nodes[2].system.actor(Counter.self, id: "survivor").increment(by: 1) == 6)
        #expect(PlacedCluster.hosts(of: "survivor", in: survivors) == [nodes[2].id])
        #expect(try await nodes[0].system.actor(Counter.self, id: "survivor").increment(by: 1) == 7)
        #expect(PlacedCluster.hosts(of: "survivor", in: survivors) == [nodes[2].id])
        hostNode.follower?.cancel()
        await hostNode.system.shutdown(grace: .seconds(1))
        for node in survivors { await node.stop() }
    }

    @Test func aJoiningNodeDoesNotSplitLiveActors() async throws {
        let nodes = try await PlacedCluster.start(nodes: 3, placement: .preferLocal)
        // p3 is not a member yet.
        let firstTwo = PlacedCluster.members(Array(nodes.prefix(2)))
        try await PlacedCluster.apply(firstTwo, to: nodes)
        let keys = (0..<40).map { "j\($0)" }
        for key in keys { _ = try await nodes[0].system.actor(Counter.self, id: key).increment(by: 1) }
        // p3 joins: the partitions it now owns arrive by hand-off or re-registration.
        try await PlacedCluster.apply(PlacedCluster.members(nodes), to: nodes)
        let ring = nodes[2].directory.ring
        #expect(keys.contains { ring.owner(of: "counter/\($0)") == nodes[2].id }, "p3 owns no partition of the test keys")
        try await PlacedCluster.until("every entry is at its new partition owner") {
            keys.allSatisfy { key in
                let owner = nodes.first { $0.id == ring.owner(of: "counter/\(key)") }
                return owner?.directory.partitionEntry(for: "counter/\(key)")?.node == nodes[0].id
            }
        }
        for key in keys {
            #expect(try await nodes[2].system.actor(Counter.self, id: key).increment(by: 1) == 2, "\(key)")
            #expect(PlacedCluster.hosts(of: key, in: nodes) == [nodes[0].id], "\(key)")
        }
        for node in nodes { await node.stop() }
    }

    @Test func idleDeactivationUnregistersAndTheNextCallPlacesItAnew() async throws {
        let clock = ManualClock()
        var settings = ActorSettings()
        settings.idleTimeout = .seconds(60)
        settings.collectionQuantum = .seconds(3_600)
        let nodes = try await PlacedCluster.start(nodes: 3, placement: .preferLocal, clock: clock, settings: settings)
        _ = try await nodes[0].system.actor(Counter.self, id: "idle").increment(by: 4)
        let owner = try #require(nodes.first { $0.id == nodes[0].directory.ring.owner(of: "counter/idle") })
        #expect(owner.directory.partitionEntry(for: "counter/idle")?.node == nodes[0].id)

        clock.advance(by: .seconds(61))
        #expect(nodes[0].system.collectIdleActivations() == 1)
        try await PlacedCluster.until("the idle activation is unregistered") {
            owner.directory.partitionEntry(for: "counter/idle") == nil && nodes[0].system.placementStats.unregistered == 1
        }
        #expect(nodes[0].system.placementStats.hosted == 0)
        #expect(PlacedCluster.hosts(of: "idle", in: nodes).isEmpty)
        // The next call, from p2, places it on p2 and reads the flushed state.
        #expect(try await nodes[1].system.actor(Counter.self, id: "idle").increment(by: 1) == 5)
        #expect(PlacedCluster.hosts(of: "idle", in: nodes) == [nodes[1].id])
        #expect(owner.directory.partitionEntry(for: "counter/idle")?.node == nodes[1].id)
        for node in nodes { await node.stop() }
    }

    @Test func aLosingActivationDeactivatesWhenTheDirectoryReportsAConflict() async throws {
        let nodes = try await PlacedCluster.start(nodes: 3, placement: .preferLocal)
        _ = try await nodes[1].system.actor(Counter.self, id: "loser").increment(by: 2)
        let owner = try #require(nodes.first { $0.id == nodes[0].directory.ring.owner(of: "counter/loser") })
        let address = try #require(owner.directory.partitionEntry(for: "counter/loser"))
        #expect(address.node == nodes[1].id)
        // Another address for the loser's node is not this activation: nothing happens.
        nodes[1].system.directoryConflictHandler(DirectoryConflict(
            key: "counter/loser", winner: ActivationAddress(node: nodes[2].id, epoch: 7),
            loser: ActivationAddress(node: nodes[1].id, epoch: address.epoch + 100)))
        #expect(PlacedCluster.hosts(of: "loser", in: nodes) == [nodes[1].id])
        nodes[1].system.directoryConflictHandler(DirectoryConflict(
            key: "counter/loser", winner: ActivationAddress(node: nodes[2].id, epoch: 7), loser: address))
        try await PlacedCluster.until("the losing activation is gone") { PlacedCluster.hosts(of: "loser", in: nodes).isEmpty }
        #expect(nodes[1].system.placementStats.lostActivations == 1)
        // Its memory estimate left with it (it was the node's only activation).
        #expect(nodes[1].system.catalog.liveCount == 0)
        #expect(nodes[1].system.catalog.memoryBytes == 0)
        for node in nodes { await node.stop() }
    }
}

@Suite("JSON calls under directory placement", .serialized, .timeLimit(.minutes(1)))
struct PlacementJSONTests {
    @Test func aJSONCallPlacesLikeATypedCallAndReachesTheSameActivation() async throws {
        let nodes = try await PlacedCluster.start(nodes: 3, placement: .preferLocal)
        let first = try await nodes[1].system.invoke(
            kind: "counter", key: "json", method: "increment", arguments: Array(#"{"by":2}"#.utf8), timeout: .seconds(10))
        #expect(String(decoding: first, as: UTF8.self) == "2")
        #expect(PlacedCluster.hosts(of: "json", in: nodes) == [nodes[1].id])
        let second = try await nodes[2].system.invoke(
            kind: "counter", key: "json", method: "increment", arguments: Array(#"{"by":3}"#.utf8), timeout: .seconds(10))
        #expect(String(decoding: second, as: UTF8.self) == "5")
        #expect(try await nodes[0].system.actor(Counter.self, id: "json").total() == 5)
        #expect(PlacedCluster.hosts(of: "json", in: nodes) == [nodes[1].id])
        for node in nodes { await node.stop() }
    }
}
