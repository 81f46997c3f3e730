import LocalityCore
import LocalityTransport
import NIOCore
import Synchronization
import Testing
@testable import LocalityRouting

/// Nodes a resolve closure named, in order.
final class ResolveLog: Sendable {
    private let entries = Mutex<[NodeID?]>([])
    func record(_ failed: NodeID?) { entries.withLock { $0.append(failed) } }
    var all: [NodeID?] { entries.withLock { $0 } }
}

/// Refuses every request with `not_owner`.
struct RefusesEverything: RoutedHandler {
    func handle(_ request: RoutedRequest) async throws -> ByteBuffer {
        throw LocalityError(.notOwner, "not here")
    }
}

@Suite("Routing to a chosen node", .serialized, .timeLimit(.minutes(1)))
struct DirectRoutingTests {
    @Test func theDirectFlagSurvivesTheWireAndLeavesHopsAlone() throws {
        for direct in [false, true] {
            for hops in [0, 1, 3, 127] {
                let envelope = RoutedEnvelope(hops: hops, key: "kind/key", body: ByteBuffer(string: "body"), direct: direct)
                #expect(try RoutedEnvelope.decode(envelope.encoded()) == envelope)
            }
        }
        // An envelope written before the flag existed decodes as not direct.
        var old = ByteBuffer()
        old.writeInteger(UInt8(1))
        old.writeInteger(UInt8(2))
        old.writeInteger(UInt16(1))
        old.writeString("k")
        #expect(try RoutedEnvelope.decode(old) == RoutedEnvelope(hops: 2, key: "k", body: ByteBuffer(), direct: false))
    }

    @Test func aChosenNodeRunsTheRequestEvenWhenItDoesNotOwnTheKey() async throws {
        let resolver = RingOwnerResolver()
        let nodes = try await TestCluster.start(names: ["r1", "r2", "r3"], resolvers: { _ in resolver })
        resolver.update(TestCluster.members(nodes))
        let key = try #require((0..<100).map { "user-\($0)" }.first { resolver.owner(of: $0) == nodes[1].id })
        // The ring owner is r2, the caller r1 chooses r3: r3 answers, without forwarding to r2.
        let log = ResolveLog()
        let reply = try await nodes[0].router.handleOrForward(key: key, body: ByteBuffer(), deadline: TestCluster.deadline(.seconds(10))) { failed in
            log.record(failed)
            return nodes[2].id
        }
        #expect(String(buffer: reply) == "r3 \(key)")
        #expect(log.all == [nil])
        #expect(nodes[2].router.stats.handledLocally == 1)
        #expect(nodes[2].router.stats.forwarded == 0)
        #expect(nodes[1].router.stats.handledLocally == 0)
        for node in nodes { await node.transport.shutdown() }
    }

    @Test func notOwnerFromTheChosenNodeReResolvesWithTheFailedNode() async throws {
        let resolver = RingOwnerResolver()
        let refusing = NodeID(name: "r9", uid: 9)
        let good = try await TestCluster.start(names: ["r1", "r2"], resolvers: { _ in resolver })
        let router = Router(local: refusing, resolver: resolver, addresses: resolver, handler: RefusesEverything())
        let transport = NodeTransport(identity: refusing, clusterKey: TestCluster.key, handler: router)
        router.attach(transport)
        let address = try await transport.bind(host: "127.0.0.1", port: 0)
        var members = TestCluster.members(good)
        members[refusing] = address
        resolver.update(members)
        let log = ResolveLog()
        // First the refusing node, then (told it failed) r2.
        let reply = try await good[0].router.handleOrForward(key: "k", body: ByteBuffer(), deadline: TestCluster.deadline(.seconds(10))) { failed in
            log.record(failed)
            return failed == nil ? refusing : good[1].id
        }
        #expect(String(buffer: reply) == "r2 k")
        #expect(log.all == [nil, refusing])
        #expect(good[0].router.stats.retries == 1)
        // A node that always refuses ends in not_owner once the budget is spent.
        await #expect(throws: LocalityError.self) {
            _ = try await good[0].router.handleOrForward(key: "k", body: ByteBuffer(), deadline: TestCluster.deadline(.seconds(10))) { _ in refusing }
        }
        for node in good { await node.transport.shutdown() }
        await transport.shutdown()
    }
}

@Suite("Running a request here when this node owns its key")
struct LocalOwnerShortcutTests {
    @Test func theOwnerRunsTheBodyOthersAndRetryableFailuresRouteInstead() async throws {
        let resolver = RingOwnerResolver()
        let nodes = try await TestCluster.start(names: ["r1", "r2"], resolvers: { _ in resolver })
        resolver.update(TestCluster.members(nodes))
        let router = nodes[0].router
        let mine = try #require((0..<100).map { "user-\($0)" }.first { resolver.owner(of: $0) == nodes[0].id })
        let theirs = try #require((0..<100).map { "user-\($0)" }.first { resolver.owner(of: $0) == nodes[1].id })

        #expect(try await router.runIfLocalOwner(key: mine, { "ran" }) == "ran")
        #expect(router.stats.handledLocally == 1)
        let ran = Mutex(false)
        #expect(try await router.runIfLocalOwner(key: theirs, { ran.withLock { $0 = true }; return "ran" }) == nil)
        #expect(!ran.withLock { $0 })
        // A failure the router would retry hands the request back to routing ...
        #expect(try await router.runIfLocalOwner(key: mine, { () throws -> String in throw LocalityError(.notOwner, "moved") }) == nil)
        // ... any other failure is the answer.
        await #expect(throws: LocalityError.self) {
            try await router.runIfLocalOwner(key: mine, { () throws -> String in throw LocalityError(.badRequest, "bad") })
        }
        for node in nodes { await node.transport.shutdown() }
    }
}
