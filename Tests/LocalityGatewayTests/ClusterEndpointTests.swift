import Foundation
import LocalityCore
import LocalityMembership
import LocalityPlacement
import LocalityRouting
import Testing
@testable import LocalityGateway

/// The cluster views over a real server, fed by fake providers.
@Suite("Gateway cluster endpoints", .timeLimit(.minutes(2)))
struct ClusterEndpointTests {
    static let nodes = (1...3).map { NodeID(name: "n\($0)", uid: UInt64($0) << 60) }

    static func context(activations: [GatewayActivation] = []) -> GatewayContext {
        let states = nodes.enumerated().map { index, id in
            MemberState(id: id, address: NodeAddress(host: "127.0.0.1", port: 7000 + index), incarnation: UInt64(index),
                        status: index == 2 ? .suspect : .alive,
                        metadata: MembershipRingFeed.metadata(transport: NodeAddress(host: "127.0.0.1", port: 7100 + index), extra: ["http": "127.0.0.1:\(8000 + index)"]))
        }
        let resolver = RingOwnerResolver(members: MembershipRingFeed.routableMembers(states))
        return GatewayContext(invoker: FakeInvoker.echo(), localNode: nodes[0], members: { states }, ring: resolver, activations: { activations })
    }

    static func decode<T: Decodable>(_ type: T.Type, _ response: RawHTTPResponse) throws -> T {
        try JSONDecoder().decode(type, from: Data(response.body.utf8))
    }

    @Test func membersShowNameUidAddressStateIncarnationAndMetadata() async throws {
        try await GatewayHarness.withGateway(context: Self.context()) { _, port in
            let response = try await RawHTTPClient.get("/v1/cluster/members", port: port)
            #expect(response.status == 200)
            #expect(response.headers["access-control-allow-origin"] == "*")
            let view = try Self.decode(ClusterViews.Members.self, response)
            #expect(view.node == ClusterViews.Node(Self.nodes[0]))
            #expect(view.members.map(\.name) == ["n1", "n2", "n3"])
            #expect(view.members.map(\.state) == ["alive", "alive", "suspect"])
            #expect(view.members[2].uid == String(UInt64(3) << 60))
            #expect(view.members[1].address == "127.0.0.1:7001")
            #expect(view.members[1].incarnation == 1)
            #expect(view.members[1].metadata == ["transport": "127.0.0.1:7101", "http": "127.0.0.1:8001"])
        }
    }

    @Test func ringShowsEveryMemberWithVirtualNodesSharesAndTheChecksum() async throws {
        let context = Self.context()
        try await GatewayHarness.withGateway(context: context) { _, port in
            let view = try Self.decode(ClusterViews.Ring.self, try await RawHTTPClient.get("/v1/cluster/ring", port: port))
            let ring = try #require(context.ring).ring
            #expect(view.checksum == ClusterViews.hex(ring.checksum))
            #expect(view.members.map(\.name) == ["n1", "n2", "n3"])
            #expect(view.members.map(\.vnodes) == ring.virtualNodeCounts)
            #expect(view.vnodes == ring.pointCount)
            #expect(view.members[0].address == "127.0.0.1:7100")
            #expect(abs(view.members.map(\.share).reduce(0, +) - 1) < 1e-9)
            // The estimated share agrees with where real keys land.
            var owned = [String: Int]()
            for index in 0..<30_000 { owned[ring.owner(of: "key-\(index)")!.name, default: 0] += 1 }
            for member in view.members {
                #expect(abs(member.share - Double(owned[member.name, default: 0]) / 30_000) < 0.02)
            }
        }
    }

    @Test func lookupNamesTheRingOwnerOfAKey() async throws {
        let context = Self.context()
        try await GatewayHarness.withGateway(context: context) { _, port in
            for key in ["player/p1", "a b", "ü"] {
                let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let view = try Self.decode(ClusterViews.Lookup.self, try await RawHTTPClient.get("/v1/cluster/lookup?key=\(encoded)", port: port))
                let owner = try #require(context.ring?.owner(of: key))
                #expect(view.key == key)
                #expect(view.owner == ClusterViews.Node(owner))
                #expect(view.address == context.ring?.address(of: owner)?.description)
                #expect(view.hash == ClusterViews.hex(HashRing.keyHash(key)))
            }
            let missing = try await RawHTTPClient.get("/v1/cluster/lookup", port: port)
            #expect(missing.status == 400)
            #expect(missing.errorCode == "bad_request")
        }
    }

    @Test func activationsListThisNodesLiveActorsByKind() async throws {
        let live = [GatewayActivation(kind: "player", key: "p2"), GatewayActivation(kind: "room", key: "r1"), GatewayActivation(kind: "player", key: "p1")]
        try await GatewayHarness.withGateway(context: Self.context(activations: live)) { _, port in
            let players = try Self.decode(ClusterViews.Activations.self, try await RawHTTPClient.get("/v1/cluster/activations?kind=player", port: port))
            #expect(players.count == 2)
            #expect(players.activations.map(\.key) == ["p1", "p2"])
            #expect(players.truncated == false)
            let all = try Self.decode(ClusterViews.Activations.self, try await RawHTTPClient.get("/v1/cluster/activations?limit=1", port: port))
            #expect(all.count == 3)
            #expect(all.activations == [GatewayActivation(kind: "player", key: "p1")])
            #expect(all.truncated)
        }
    }

    @Test func endpointsWithoutAProviderAre503() async throws {
        try await GatewayHarness.withGateway(context: GatewayContext(invoker: FakeInvoker.echo())) { _, port in
            for path in ["/v1/cluster/members", "/v1/cluster/ring", "/v1/cluster/lookup?key=a", "/v1/cluster/activations"] {
                let response = try await RawHTTPClient.get(path, port: port)
                #expect(response.status == 503, "\(path)")
                #expect(response.errorCode == "unavailable", "\(path)")
            }
        }
    }

    @Test func statsCountActorCallsPerSecond() async throws {
        try await GatewayHarness.withGateway(context: Self.context()) { server, port in
            for _ in 0..<5 { _ = try await RawHTTPClient.post("/v1/actors/player/p1/get", "{}", port: port) }
            // The calls land in completed seconds once a second has passed.
            var total = 0
            let counted = await GatewayHarness.eventually {
                total = server.stats.samples().map(\.requests).reduce(0, +)
                return total == 5
            }
            #expect(counted, "counted \(total)")
            let view = try Self.decode(ClusterViews.Stats.self, try await RawHTTPClient.get("/v1/stats", port: port))
            #expect(view.samples.map(\.requests).reduce(0, +) == 5)
            #expect(view.samples.contains { $0.requests > 0 && $0.p99Ms >= $0.p50Ms && $0.p50Ms > 0 })
        }
    }

    @Test func theDashboardAndTheOpenAPIDocumentAreServed() async throws {
        try await GatewayHarness.withGateway(context: Self.context()) { _, port in
            let page = try await RawHTTPClient.get("/", port: port)
            #expect(page.status == 200)
            #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
            #expect(page.body.contains("/v1/cluster/members") && page.body.contains("<canvas"))
            // Self-contained: nothing loaded from elsewhere.
            #expect(!page.body.contains("src=\"http") && !page.body.contains("href=\"http"))
            let document = try await RawHTTPClient.get("/openapi.yaml", port: port)
            #expect(document.status == 200)
            #expect(document.body.hasPrefix("openapi: 3"))
        }
    }

    @Test func theServedOpenAPIDocumentIsDocsOpenapiYaml() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/openapi.yaml")
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text == OpenAPIDocument.yaml + "\n")
        // Every route the gateway serves is in the document.
        for path in ["/v1/actors/{type}/{id}/{method}:", "/v1/cluster/members:", "/v1/cluster/ring:", "/v1/cluster/lookup:",
                     "/v1/cluster/activations:", "/v1/stats:", "/metrics:", "/healthz:", "/readyz:", "/openapi.yaml:", "  /:"] {
            #expect(text.contains(path), "\(path)")
        }
    }
}

@Suite("Request stats")
struct RequestStatsTests {
    @Test func secondsRollOverWithPercentilesAndQuietSecondsAsZeros() {
        let clock = SecondClock(100)
        let stats = RequestStats(capacity: 4) { clock.value }
        for micros in [1_000, 2_000, 3_000, 100_000] as [UInt64] { stats.record(status: 200, microseconds: micros) }
        stats.record(status: 503, microseconds: 10)
        #expect(stats.samples().isEmpty)
        clock.value = 103
        let samples = stats.samples()
        #expect(samples.map(\.second) == [100, 101, 102])
        #expect(samples[0].requests == 5 && samples[0].errors == 1 && samples[0].rejected == 1)
        #expect(samples[0].p50Ms >= 1.9 && samples[0].p50Ms <= 3.1)
        #expect(samples[0].p99Ms >= 99 && samples[0].p99Ms <= 101)
        #expect(samples[1].requests == 0 && samples[2].requests == 0)
        // Bounded: after a long pause only `capacity` seconds remain.
        clock.value = 10_000
        #expect(stats.samples().count == 4)
        #expect(stats.samples().last?.second == 9_999)
    }
}

/// A settable clock in whole seconds.
final class SecondClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Int64
    init(_ start: Int64) { current = start }
    var value: Int64 {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }
}
