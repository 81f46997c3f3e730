import LocalityCore
import LocalityPlacement
import NIOCore
import NIOPosix
import Synchronization
import Testing
@testable import LocalityRouting
@testable import LocalityTransport

/// Answers with the name of the node that ran it, then the key.
struct NameHandler: RoutedHandler {
    let node: NodeID

    func handle(_ request: RoutedRequest) async throws -> ByteBuffer {
        ByteBuffer(string: "\(node.name) \(request.key)")
    }
}

/// A transport handler that answers every call: what a wrong peer would do.
struct AnswersAnything: TransportHandler {
    func handle(_ request: TransportRequest) async throws -> ByteBuffer { ByteBuffer(string: "not the owner") }
}

/// One node: transport + router.
struct TestNode {
    let id: NodeID
    let transport: NodeTransport
    let router: Router
    let address: NodeAddress
}

/// A cluster of nodes in one process, each with its own transport on a loopback port.
enum TestCluster {
    static let key = Array("routing-test-key".utf8)

    static func start(
        names: [String], resolvers: (NodeID) -> RingOwnerResolver, settings: RoutingSettings = RoutingSettings()
    ) async throws -> [TestNode] {
        var nodes: [TestNode] = []
        for (index, name) in names.enumerated() {
            let id = NodeID(name: name, uid: UInt64(index + 1))
            let resolver = resolvers(id)
            let router = Router(local: id, resolver: resolver, addresses: resolver, handler: NameHandler(node: id), settings: settings)
            let transport = NodeTransport(identity: id, clusterKey: key, handler: router)
            router.attach(transport)
            let address = try await transport.bind(host: "127.0.0.1", port: 0)
            nodes.append(TestNode(id: id, transport: transport, router: router, address: address))
        }
        return nodes
    }

    static func members(_ nodes: [TestNode]) -> [NodeID: NodeAddress] {
        Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, $0.address) })
    }

    static func deadline(_ duration: Duration) -> NIODeadline { .now() + .nanoseconds(duration.nanoseconds) }
}

/// Outcomes of concurrent requests.
final class Outcomes: Sendable {
    private let state = Mutex((succeeded: 0, byCode: [LocalityError.Code: Int](), unexpected: 0))
    private let survivors = Mutex(0)

    func survivorAnswered() { survivors.withLock { $0 += 1 } }
    var answeredBySurvivorsAfterLeave: Int { survivors.withLock { $0 } }

    func success() { state.withLock { $0.succeeded += 1 } }
    func failure(_ code: LocalityError.Code) { state.withLock { $0.byCode[code, default: 0] += 1 } }
    func unexpected() { state.withLock { $0.unexpected += 1 } }
    var succeeded: Int { state.withLock { $0.succeeded } }
    var byCode: [LocalityError.Code: Int] { state.withLock { $0.byCode } }
    var unexpectedCount: Int { state.withLock { $0.unexpected } }
    var total: Int { state.withLock { $0.succeeded + $0.byCode.values.reduce(0, +) + $0.unexpected } }
}

/// The longest of several concurrent calls.
final class SlowestCall: Sendable {
    private let longest = Mutex(Duration.zero)

    func record(_ duration: Duration) { longest.withLock { $0 = max($0, duration) } }
    var value: Duration { longest.withLock { $0 } }
}

@Suite("Router over loopback", .timeLimit(.minutes(1)))
struct RouterLoopbackTests {
    @Test func everyRequestIsAnsweredByItsOwnerWhicheverNodeItEnters() async throws {
        let shared = RingOwnerResolver()
        let nodes = try await TestCluster.start(names: ["n1", "n2", "n3"], resolvers: { _ in shared })
        shared.update(TestCluster.members(nodes))
        let ring = shared.ring
        var answeredBy: [String: Int] = [:]
        for index in 0..<300 {
            let key = "user-\(index)"
            let entry = nodes[index % 3]
            let reply = try await entry.router.handleOrForward(key: key, body: ByteBuffer(), deadline: TestCluster.deadline(.seconds(2)))
            let owner = try #require(ring.owner(of: key))
            #expect(String(buffer: reply) == "\(owner.name) \(key)")
            answeredBy[owner.name, default: 0] += 1
        }
        #expect(answeredBy.count == 3)
        #expect(answeredBy.values.allSatisfy { $0 > 30 })
        let forwarded = nodes.map(\.router.stats.forwarded).reduce(0, +)
        let local = nodes.map(\.router.stats.handledLocally).reduce(0, +)
        #expect(local == 300)
        #expect(forwarded > 100 && forwarded < 300)
        for node in nodes { await node.transport.shutdown() }
    }

    /// Runs 60 calls from n1 and n2 for keys n3 owns, after n3's transport is gone; the
    /// ring drops n3 (as gossip would, a little later) once every call waits for it
    /// (`dropWhenAllWait`, or after 10 s), or else only after every call has ended.
    /// Returns their outcomes.
    func callsDuringFailover(settings: RoutingSettings, dropWhenAllWait: Bool) async throws -> (outcomes: Outcomes, slowest: Duration) {
        let shared = RingOwnerResolver()
        let nodes = try await TestCluster.start(names: ["n1", "n2", "n3"], resolvers: { _ in shared }, settings: settings)
        shared.update(TestCluster.members(nodes))
        let dead = nodes[2]
        let keys = (0..<1_000).map { "cart-\($0)" }.filter { shared.owner(of: $0) == dead.id }.prefix(60)
        await dead.transport.shutdown()
        let outcomes = Outcomes()
        let slowest = SlowestCall()
        try await withThrowingTaskGroup(of: Void.self) { group in
            if dropWhenAllWait {
                group.addTask {
                    // Deterministic on a loaded machine: the ring changes only once all 60 wait.
                    let deadline = ContinuousClock.now + .seconds(10)
                    while nodes[0].router.callsWaitingForOwner + nodes[1].router.callsWaitingForOwner < keys.count,
                          ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    try await Task.sleep(for: .milliseconds(300))
                    shared.remove(dead.id)
                }
            }
            for (index, key) in keys.enumerated() {
                group.addTask {
                    let start = ContinuousClock.now
                    do {
                        let reply = try await nodes[index % 2].router.handleOrForward(key: key, body: ByteBuffer(), deadline: TestCluster.deadline(.seconds(5)))
                        outcomes.success()
                        if !String(buffer: reply).hasPrefix("n3") { outcomes.survivorAnswered() }
                    } catch let error as LocalityError {
                        outcomes.failure(error.code)
                    } catch {
                        outcomes.unexpected()
                    }
                    slowest.record(ContinuousClock.now - start)
                }
            }
            try await group.waitForAll()
        }
        if !dropWhenAllWait { shared.remove(dead.id) }
        for node in nodes.prefix(2) { await node.transport.shutdown() }
        return (outcomes, slowest.value)
    }

    @Test func callsForADeadOwnersKeysWaitForItsReplacementInsteadOfFailing() async throws {
        let (outcomes, slowest) = try await callsDuringFailover(settings: RoutingSettings(), dropWhenAllWait: true)
        print("failover with waiting: \(outcomes.succeeded) succeeded, errors \(outcomes.byCode), slowest \(slowest)")
        #expect(outcomes.total == 60)
        #expect(outcomes.succeeded == 60, "errors \(outcomes.byCode)")
        #expect(outcomes.answeredBySurvivorsAfterLeave == 60)
        #expect(slowest >= .milliseconds(300), "the calls did not wait for the ring")
    }

    @Test func withoutWaitingADeadOwnersKeysAnswerUnavailable() async throws {
        var settings = RoutingSettings()
        settings.maxWaitingForOwner = 0
        let (outcomes, _) = try await callsDuringFailover(settings: settings, dropWhenAllWait: false)
        #expect(outcomes.total == 60)
        #expect(outcomes.byCode[.unavailable] == 60, "\(outcomes.byCode)")
    }

    @Test func whenAnOwnerLeavesUnderLoadRequestsRerouteAndNoneIsLost() async throws {
        let shared = RingOwnerResolver()
        let nodes = try await TestCluster.start(names: ["n1", "n2", "n3"], resolvers: { _ in shared })
        shared.update(TestCluster.members(nodes))
        let leaving = nodes[2]
        let total = 1_200
        let concurrency = 32
        let outcomes = Outcomes()
        let leaveAt = total / 3
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var index = worker
                    while index < total {
                        if index == leaveAt {
                            // The owner drains and leaves; the others learn it a little later,
                            // as they would from gossip.
                            Task {
                                await leaving.transport.shutdown()
                            }
                            Task {
                                try await Task.sleep(for: .milliseconds(20))
                                shared.remove(leaving.id)
                            }
                        }
                        let key = "session-\(index % 97)"
                        let entry = nodes[index % 2]
                        do {
                            let reply = try await entry.router.handleOrForward(key: key, body: ByteBuffer(), deadline: TestCluster.deadline(.seconds(3)))
                            outcomes.success()
                            if index > leaveAt, !String(buffer: reply).hasPrefix("n3") { outcomes.survivorAnswered() }
                        } catch let error as LocalityError {
                            outcomes.failure(error.code)
                        } catch {
                            outcomes.unexpected()
                        }
                        index += concurrency
                    }
                }
            }
            try await group.waitForAll()
        }
        print("owner leaves under load: \(total) requests, \(outcomes.succeeded) succeeded, errors \(outcomes.byCode), retries \(nodes.map(\.router.stats.retries)), \(outcomes.answeredBySurvivorsAfterLeave) answered by survivors after the leave began")
        #expect(outcomes.total == total)
        #expect(outcomes.unexpectedCount == 0)
        #expect(outcomes.succeeded >= total * 9 / 10)
        #expect(Set(outcomes.byCode.keys).isSubset(of: [.unavailable, .deadlineExceeded, .outcomeUnknown]))
        #expect(shared.owner(of: "session-1") != leaving.id)
        // After the leave every key is answered by a survivor.
        for index in 0..<97 {
            let reply = try await nodes[0].router.handleOrForward(key: "session-\(index)", body: ByteBuffer(), deadline: TestCluster.deadline(.seconds(2)))
            #expect(!String(buffer: reply).hasPrefix("n3"))
        }
        for node in nodes.prefix(2) { await node.transport.shutdown() }
    }

    @Test func aForwardingLoopEndsAtTheHopLimitWithAnError() async throws {
        // n1 believes n2 owns everything, n2 believes n1 does: a loop.
        let ids = [NodeID(name: "n1", uid: 1), NodeID(name: "n2", uid: 2)]
        let views = [ids[0]: PinnedResolver(), ids[1]: PinnedResolver()]
        let nodes = try await TestCluster.start(names: ["n1", "n2"], resolvers: { id in views[id]!.ring })
        views[ids[0]]!.pin(to: nodes[1], others: nodes)
        views[ids[1]]!.pin(to: nodes[0], others: nodes)
        // A loop must end at the hop limit, long before this deadline: the error's message
        // and the forward count below say which of the two ended it (no wall-clock check).
        do {
            _ = try await nodes[0].router.handleOrForward(key: "k", body: ByteBuffer(), deadline: TestCluster.deadline(.seconds(30)))
            Issue.record("a loop produced an answer")
        } catch let error as LocalityError {
            #expect(error.code == .unavailable)
            #expect(error.message.hasPrefix(Router.hopLimitMessage))
        }
        let forwarded = nodes.map(\.router.stats.forwarded).reduce(0, +)
        let hits = nodes.map(\.router.stats.hopLimitHits).reduce(0, +)
        #expect(forwarded == 3)
        #expect(hits == 1)
        for node in nodes { await node.transport.shutdown() }
    }

    @Test func aForwardReachesTheOwnerItselfNotWhoeverHoldsItsOldAddress() async throws {
        let shared = RingOwnerResolver()
        let nodes = try await TestCluster.start(names: ["n1", "n2"], resolvers: { _ in shared })
        let owner = nodes[1].id
        // Another node of this cluster, and a node of another cluster, at addresses the
        // ring still believes are n2's.
        let impostor = NodeTransport(identity: NodeID(name: "n2", uid: 99), clusterKey: TestCluster.key, handler: AnswersAnything())
        let stranger = NodeTransport(identity: NodeID(name: "stranger", uid: 7), clusterKey: Array("another-cluster".utf8), handler: AnswersAnything())
        let impostorAddress = try await impostor.bind(host: "127.0.0.1", port: 0)
        let strangerAddress = try await stranger.bind(host: "127.0.0.1", port: 0)
        let key = try #require((0..<200).map { "k\($0)" }.first { key in
            shared.update(TestCluster.members(nodes))
            return shared.owner(of: key) == owner
        })
        for (address, expected) in [(impostorAddress, "is now"), (strangerAddress, "not in this cluster")] {
            shared.update([nodes[0].id: nodes[0].address, owner: address])
            let before = nodes[0].router.stats.retries
            do {
                _ = try await nodes[0].router.handleOrForward(key: key, body: ByteBuffer(), deadline: TestCluster.deadline(.seconds(10)))
                Issue.record("a request for \(owner) was answered at \(address)")
            } catch let error as LocalityError {
                #expect(error.code == .unavailable)
                #expect(error.message.contains(expected), "\(error.message)")
            }
            #expect(nodes[0].router.stats.retries - before == RoutingSettings().retryBudget)
        }
        // Back at its real address, the owner answers.
        shared.update(TestCluster.members(nodes))
        let reply = try await nodes[0].router.handleOrForward(key: key, body: ByteBuffer(), deadline: TestCluster.deadline(.seconds(10)))
        #expect(String(buffer: reply) == "n2 \(key)")
        for transport in [impostor, stranger] + nodes.map(\.transport) { await transport.shutdown() }
    }

    @Test func notOwnerFromTheLocalHandlerIsReturnedAndRetriedUpstream() async throws {
        struct Moved: RoutedHandler {
            func handle(_ request: RoutedRequest) async throws -> ByteBuffer { throw LocalityError(.notOwner, "moved") }
        }
        let resolver = RingOwnerResolver()
        let owner = NodeID(name: "owner", uid: 1)
        let router = Router(local: owner, resolver: resolver, addresses: resolver, handler: Moved())
        resolver.update([owner: NodeAddress(host: "127.0.0.1", port: 1)])
        await #expect(throws: LocalityError.self) {
            // The deadline is generous on purpose: the test counts attempts, and a loaded
            // CI machine must not turn a budget test into a deadline test.
            _ = try await router.handleOrForward(key: "k", body: ByteBuffer(), deadline: TestCluster.deadline(.seconds(10)))
        }
        #expect(router.stats.retries == RoutingSettings().retryBudget)
        #expect(router.stats.handledLocally == RoutingSettings().retryBudget + 1)
    }

    @Test func envelopeRoundTripsAndRejectsGarbage() throws {
        let envelope = RoutedEnvelope(hops: 2, key: "user-7", body: ByteBuffer(string: "body"))
        #expect(try RoutedEnvelope.decode(envelope.encoded()) == envelope)
        #expect(throws: LocalityError.self) { _ = try RoutedEnvelope.decode(ByteBuffer(bytes: [9, 9])) }
    }
}

/// A view that maps every key to one pinned node (to build inconsistent views).
final class PinnedResolver: Sendable {
    let ring = RingOwnerResolver()

    func pin(to owner: TestNode, others: [TestNode]) {
        ring.update([owner.id: owner.address])
        _ = others
    }
}
