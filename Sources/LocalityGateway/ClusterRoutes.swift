import Foundation
import Hummingbird
import LocalityCore
import LocalityPlacement

/// The read-only cluster endpoints: members, ring, key lookup, this node's activations,
/// and the traffic time series. Answers carry `Access-Control-Allow-Origin: *` so one
/// node's dashboard can read the other nodes' activations.
struct ClusterRoutes: Sendable {
    /// Most activations listed by one answer (`limit` cannot exceed it).
    static let maxActivationsListed = 10_000

    let context: GatewayContext
    let server: GatewayServer
    let shareCache = RingShareCache()

    func register(on router: Router<GatewayRequestContext>) {
        router.get("/v1/cluster/members") { _, _ in try await members() }
        router.get("/v1/cluster/ring") { _, _ in try ring() }
        router.get("/v1/cluster/lookup") { request, _ in try lookup(request) }
        router.get("/v1/cluster/activations") { request, _ in try await activations(request) }
        router.get("/v1/stats") { _, _ in try stats() }
    }

    func members() async throws -> Response {
        guard let provider = context.members else { throw LocalityError(.unavailable, "this node has no membership view") }
        return try Self.json(ClusterViews.members(await provider(), node: context.localNode))
    }

    func ring() throws -> Response {
        guard let resolver = context.ring else { throw LocalityError(.unavailable, "this node has no ring") }
        let ring = resolver.ring
        let shares = shareCache.shares(of: ring)
        let gateways = resolver.gateways
        let members = ring.members.enumerated().map { index, member in
            ClusterViews.RingMember(name: member.name, uid: String(member.uid), address: resolver.address(of: member)?.description,
                                    http: gateways[member], vnodes: ring.virtualNodeCounts[index], share: shares[index])
        }
        return try Self.json(ClusterViews.Ring(node: context.localNode.map(ClusterViews.Node.init), checksum: ClusterViews.hex(ring.checksum),
                                               vnodes: ring.pointCount, members: members))
    }

    func lookup(_ request: Request) throws -> Response {
        guard let resolver = context.ring else { throw LocalityError(.unavailable, "this node has no ring") }
        guard let key = request.uri.queryParameters.get("key"), !key.isEmpty else {
            throw LocalityError(.badRequest, "query parameter 'key' is required")
        }
        guard let owner = resolver.owner(of: key) else { throw LocalityError(.unavailable, "the ring is empty") }
        return try Self.json(ClusterViews.Lookup(key: key, hash: ClusterViews.hex(HashRing.keyHash(key)),
                                                 owner: ClusterViews.Node(owner), address: resolver.address(of: owner)?.description))
    }

    func activations(_ request: Request) async throws -> Response {
        guard let provider = context.activations else { throw LocalityError(.unavailable, "this node hosts no actors") }
        let kind = request.uri.queryParameters.get("kind").flatMap { $0.isEmpty ? nil : $0 }
        var limit = 1_000
        if let text = request.uri.queryParameters.get("limit") {
            guard let value = Int(text), value >= 0 else { throw LocalityError(.badRequest, "'limit' must be a non-negative integer") }
            limit = min(value, Self.maxActivationsListed)
        }
        let all = await provider().filter { kind == nil || $0.kind == kind }
        let listed = all.sorted { ($0.kind, $0.key) < ($1.kind, $1.key) }.prefix(limit)
        return try Self.json(ClusterViews.Activations(node: context.localNode.map(ClusterViews.Node.init), kind: kind, count: all.count,
                                                      truncated: listed.count < all.count, activations: Array(listed)))
    }

    func stats() throws -> Response {
        let (inFlight, queued) = server.limiter.depths
        return try Self.json(ClusterViews.Stats(node: context.localNode.map(ClusterViews.Node.init), inFlight: inFlight, queued: queued,
                                                connections: server.connections.current, samples: server.stats.samples()))
    }

    static func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        return Response(status: .ok, headers: [.contentType: "application/json", .accessControlAllowOrigin: "*", .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
