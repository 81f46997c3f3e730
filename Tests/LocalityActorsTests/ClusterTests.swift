import Foundation
import LocalityActors
import LocalityCore
import LocalityExamples
import LocalityRouting
import LocalityStorage
import LocalityTransport
import NIOCore
import Synchronization
import Testing
@testable import LocalityActors

/// One node of an in-process cluster: actor system, SQLite store, router, transport.
struct ActorNode {
    let id: NodeID
    let system: ClusterSystem
    let store: SQLiteStateStore
    let resolver: RingOwnerResolver
    let router: Router
    let transport: NodeTransport
    let address: NodeAddress

    func stop() async {
        await system.shutdown()
        await transport.shutdown()
        try? await store.close()
    }
}

/// N nodes on loopback ports with a static member list; each has its own SQLite file.
enum ActorCluster {
    static let key = Array("actors-test-key".utf8)

    static func start(nodes count: Int, directory: String, settings: ActorSettings = ActorSettings()) async throws -> [ActorNode] {
        var nodes: [ActorNode] = []
        for index in 0..<count {
            let id = NodeID(name: "n\(index + 1)", uid: UInt64(index + 1))
            let store = try await SQLiteStateStore.open(path: "\(directory)/\(id.name).sqlite")
            let system = ClusterSystem(node: id, settings: settings, stateStore: store)
            try ExampleKinds.register(on: system)
            try system.register(SlowStart.self, kind: "slow") { _, system in SlowStart(actorSystem: system) }
            try system.register(Bouncer.self, kind: "bouncer") { _, system in Bouncer(actorSystem: system) }
            try system.register(Fragile.self, kind: "fragile") { _, system in Fragile(actorSystem: system) }
            let resolver = RingOwnerResolver()
            let router = Router(local: id, resolver: resolver, addresses: resolver, handler: system.callHandler)
            let transport = NodeTransport(identity: id, clusterKey: key, handler: router)
            router.attach(transport)
            system.attach(router: router, resolver: resolver)
            let address = try await transport.bind(host: "127.0.0.1", port: 0)
            nodes.append(ActorNode(id: id, system: system, store: store, resolver: resolver, router: router, transport: transport, address: address))
        }
        let members = Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, $0.address) })
        for node in nodes { node.resolver.update(members) }
        return nodes
    }

    static func directory() throws -> String {
        let path = NSTemporaryDirectory() + "locality-cluster-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A key of `kind` whose owner is not `node`.
    static func remoteKey(_ kind: String, from node: ActorNode, prefix: String) -> String {
        var index = 0
        while node.resolver.owner(of: "\(kind)/\(prefix)\(index)") == node.id { index += 1 }
        return "\(prefix)\(index)"
    }
}

/// Calls acknowledged to the caller.
final class AcknowledgedCount: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

@Suite("Virtual actors across nodes", .serialized, .timeLimit(.minutes(3)))
struct ClusterTests {
    @Test("3 nodes, 1,000 players × 10 matches from random nodes: totals exact in memory and in SQLite, one activation each")
    func thousandActorsTenIncrements() async throws {
        let directory = try ActorCluster.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let nodes = try await ActorCluster.start(nodes: 3, directory: directory)
        let players = 1_000
        let matchesEach = 10
        let workers = 64
        let acknowledged = AcknowledgedCount()
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var random = SeededRandom(seed: UInt64(worker + 1))
                    var operation = worker
                    while operation < players * matchesEach {
                        let player = operation % players
                        let entry = nodes[Int(random.next() % UInt64(nodes.count))]
                        let stats = try entry.system.actor(PlayerStats.self, id: "player-\(player)")
                        _ = try await stats.recordMatch(points: 1 + player % 7, won: operation % 2 == 0)
                        acknowledged.add()
                        operation += workers
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - started
        #expect(acknowledged.value == players * matchesEach)

        // One activation per player, on its ring owner.
        var hosts: [String: [NodeID]] = [:]
        for node in nodes {
            for id in node.system.activeIDs where id.kind == PlayerStats.kind { hosts[id.key, default: []].append(node.id) }
        }
        #expect(hosts.count == players)
        #expect(hosts.values.allSatisfy { $0.count == 1 })
        for (key, host) in hosts { #expect(nodes[0].resolver.owner(of: "player/\(key)") == host.first) }

        // Totals in memory, read through any node.
        for player in 0..<players {
            let totals = try await nodes[player % 3].system.actor(PlayerStats.self, id: "player-\(player)").current()
            #expect(totals.matches == matchesEach)
            #expect(totals.points == matchesEach * (1 + player % 7))
            #expect(totals.wins == (player % 2 == 0 ? matchesEach : 0))
        }
        let forwarded = nodes.map(\.router.stats.forwarded).reduce(0, +)
        #expect(forwarded > players * matchesEach / 2)
        print("cluster test: \(players * matchesEach) recordMatch calls, \(workers) in flight, 3 nodes, \(elapsed); forwarded \(forwarded)")

        // Totals in storage: each player in exactly one node's SQLite file.
        for node in nodes { await node.stop() }
        var stores: [SQLiteStateStore] = []
        for node in nodes { stores.append(try await SQLiteStateStore.open(path: "\(directory)/\(node.id.name).sqlite")) }
        for player in 0..<players {
            var found: [PlayerStats.Totals] = []
            for store in stores {
                if let bytes = try await store.read(StateKey(kind: PlayerStats.kind, id: "player-\(player)")).value {
                    found.append(try #require(try PersistentState<PlayerStats.Totals>.value(fromStored: bytes)))
                }
            }
            #expect(found.count == 1)
            #expect(found.first?.matches == matchesEach)
            #expect(found.first?.points == matchesEach * (1 + player % 7))
        }
        for store in stores { try await store.close() }
    }

    @Test("errors cross the wire: allowed Codable errors as themselves, others generic, runtime errors by code")
    func remoteErrors() async throws {
        let directory = try ActorCluster.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let nodes = try await ActorCluster.start(nodes: 2, directory: directory)
        let entry = nodes[0]
        let player = try entry.system.actor(PlayerStats.self, id: ActorCluster.remoteKey("player", from: entry, prefix: "p"))
        await #expect(throws: PlayerStats.MatchError.negativePoints(-3)) { try await player.recordMatch(points: -3, won: false) }
        #expect(try await player.recordMatch(points: 5, won: true).points == 5)

        let fragile = try entry.system.actor(Fragile.self, id: ActorCluster.remoteKey("fragile", from: entry, prefix: "f"))
        await #expect(throws: LocalityError(.conflict, "asked to fail")) { try await fragile.fail(code: "conflict") }
        do {
            _ = try await fragile.failPlain()
            Issue.record("no error")
        } catch let error as GenericRemoteError {
            #expect(error.typeName.hasSuffix("Fragile.PlainError"))
        }
        // The callee keeps serving.
        #expect(try await fragile.ping().hasPrefix("pong"))

        // Hand-made invocations: unknown kind, unknown method, undecodable arguments.
        func send(_ message: InvocationMessage) async throws -> ByteBuffer {
            try await entry.router.handleOrForward(
                key: message.id.routingKey, body: ByteBuffer(bytes: message.encoded()), deadline: .now() + .seconds(2))
        }
        let remote = VirtualActorID(kind: "player", key: ActorCluster.remoteKey("player", from: entry, prefix: "q"))
        let cases: [(InvocationMessage, LocalityError.Code)] = [
            (InvocationMessage(chain: CallChainID(rawValue: 1), id: VirtualActorID(kind: "nope", key: "x"), method: "current()", arguments: []), .actorNotFound),
            (InvocationMessage(chain: CallChainID(rawValue: 2), id: remote, method: "steal(points:)", arguments: []), .badRequest),
            (InvocationMessage(chain: CallChainID(rawValue: 3), id: remote, method: "recordMatch(points:won:)", arguments: [.string("ten"), .bool(true)]), .badRequest),
            (InvocationMessage(chain: CallChainID(rawValue: 4), id: remote, method: "recordMatch(points:won:)", arguments: [.int(1)]), .badRequest),
        ]
        for (message, code) in cases {
            do {
                _ = try await send(message)
                Issue.record("\(message.method) on \(message.id) succeeded")
            } catch let error as LocalityError {
                #expect(error.code == code, "\(message.method): \(error)")
            }
        }
        // Garbage bytes are bad_request too.
        await #expect(throws: LocalityError.self) {
            try await entry.router.handleOrForward(key: remote.routingKey, body: ByteBuffer(bytes: [1, 2, 3]), deadline: .now() + .seconds(2))
        }
        #expect(try await player.current().matches == 1)
        for node in nodes { await node.stop() }
    }

    @Test("a caller that times out during the load does not stop it; the next caller finds the actor ready")
    func loadOutlivesItsCaller() async throws {
        let directory = try ActorCluster.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var settings = ActorSettings()
        // The load takes 2 s; a call's deadline is 1 s: the first caller gives up mid-load.
        settings.callTimeout = .seconds(1)
        let nodes = try await ActorCluster.start(nodes: 2, directory: directory, settings: settings)
        let entry = nodes[0]
        let key = ActorCluster.remoteKey("slow", from: entry, prefix: "s")
        let owner = nodes.first { $0.id == entry.resolver.owner(of: "slow/\(key)") }!
        let before = SlowStart.activations.withLock { $0 }
        let slow = try entry.system.actor(SlowStart.self, id: key)
        do {
            _ = try await slow.ping()
            Issue.record("a 2 s load answered within a 1 s deadline")
        } catch let error as LocalityError {
            #expect(error.code == .deadlineExceeded)
        }
        #expect(await Fixture.eventually { owner.system.activeIDs.map(\.key) == [key] })
        // Ready: answered within the 1 s deadline, without a second load.
        #expect(try await slow.ping() == "ready \(key)")
        #expect(SlowStart.activations.withLock { $0 } == before + 1)
        #expect(owner.system.catalogStats.activations == 1)
        for node in nodes { await node.stop() }
    }

    @Test("A→B→A across two nodes in one call chain does not deadlock")
    func remoteReentrancy() async throws {
        let directory = try ActorCluster.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let nodes = try await ActorCluster.start(nodes: 2, directory: directory)
        // a lives on n1, b on n2.
        var a = 0
        while nodes[0].resolver.owner(of: "bouncer/a\(a)") != nodes[0].id { a += 1 }
        var b = 0
        while nodes[0].resolver.owner(of: "bouncer/b\(b)") != nodes[1].id { b += 1 }
        let first = try nodes[1].system.actor(Bouncer.self, id: "a\(a)")
        #expect(try await first.bounce(to: "b\(b)", remaining: 5) == 5)
        #expect(nodes[0].system.activeIDs.map(\.key).contains("a\(a)"))
        #expect(nodes[1].system.activeIDs.map(\.key).contains("b\(b)"))
        for node in nodes { await node.stop() }
    }
}
