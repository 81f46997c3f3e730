import ArgumentParser
import Foundation
import Hummingbird
import LocalityCore
import LocalityHummingbird
import LocalityRouting
import LocalityTransport

/// A per-user rate limiter made sticky with `handleOrForward`: run one process per node,
/// each with the full member list; any node accepts any request and the user's bucket
/// lives on exactly one node.
///
/// ```
/// LOCALITY_CLUSTER_KEY=s3cret swift run RateLimiterExample --name n1 --http-port 8081 --node-port 9081 \
///     --member n1@127.0.0.1:9081 --member n2@127.0.0.1:9082
/// curl localhost:8081/limit/alice
/// ```
@main
struct RateLimiterExample: AsyncParsableCommand {
    @Option(help: "This node's name (must appear in --member).")
    var name: String

    @Option(help: "HTTP port.")
    var httpPort: Int = 8080

    @Option(help: "Node transport port.")
    var nodePort: Int = 9080

    @Option(help: "A member as name@host:port (node transport address); repeat for each.")
    var member: [String] = []

    @Option(help: "Requests per user per second.")
    var rate: Double = 5

    @Option(help: "Burst size per user.")
    var burst: Double = 10

    func run() async throws {
        var members: [NodeID: NodeAddress] = [:]
        for entry in member {
            let parts = entry.split(separator: "@", maxSplits: 1)
            guard parts.count == 2, let address = NodeAddress(parsing: String(parts[1])) else {
                throw ValidationError("--member expects name@host:port, got \(entry)")
            }
            members[Self.nodeID(String(parts[0]))] = address
        }
        let me = Self.nodeID(name)
        guard members[me] != nil else { throw ValidationError("--member must include this node (\(name))") }
        let key = Array((ProcessInfo.processInfo.environment["LOCALITY_CLUSTER_KEY"] ?? "").utf8)
        guard !key.isEmpty else { throw ValidationError("set LOCALITY_CLUSTER_KEY (same on every node)") }

        let resolver = RingOwnerResolver(members: members)
        let forwarding = HTTPForwarding<BasicRequestContext>()
        let localityRouter = LocalityRouting.Router(local: me, resolver: resolver, addresses: resolver, handler: forwarding)
        let transport = NodeTransport(identity: me, clusterKey: key, handler: localityRouter)
        localityRouter.attach(transport)
        _ = try await transport.bind(host: "0.0.0.0", port: nodePort)

        let buckets = TokenBuckets(capacity: burst, refillPerSecond: rate, maxUsers: 100_000, clock: MonotonicClock())
        let router = RateLimiterService.router(node: me, buckets: buckets, localityRouter: localityRouter, forwarding: forwarding)
        let responder = router.buildResponder()
        forwarding.attach(responder)
        let app = Application(responder: responder, configuration: .init(address: .hostname("0.0.0.0", port: httpPort)))
        try await app.runService()
        await transport.shutdown()
    }

    /// Static membership: the uid is derived from the name so every node agrees.
    static func nodeID(_ name: String) -> NodeID {
        NodeID(name: name, uid: StableHash.xxHash64(name))
    }
}
