import HTTPTypes
import Hummingbird
import LocalityLauncher
import LocalityCore
import LocalityRouting
import LocalityTransport
import Logging
import NIOCore
import NIOEmbedded
import Testing
@testable import LocalityHummingbird

/// One node of a sticky HTTP service: transport, Locality router, Hummingbird router
/// with the middleware in front of an unchanged route.
struct HTTPNode {
    let id: NodeID
    let transport: NodeTransport
    let responder: any HTTPResponder<BasicRequestContext>

    func get(_ path: String, headers: HTTPFields = [:]) async throws -> (HTTPResponse.Status, String) {
        let head = HTTPRequest(method: .get, scheme: nil, authority: nil, path: path, headerFields: headers)
        let context = BasicRequestContext(source: ApplicationRequestContextSource(channel: EmbeddedChannel(), logger: Logger(label: "test")))
        let response = try await responder.respond(to: Request(head: head, body: RequestBody(buffer: ByteBuffer())), context: context)
        let collector = BodyCollector()
        try await response.body.write(collector)
        return (response.status, String(buffer: collector.bytes))
    }
}

@Suite("HandleOrForwardMiddleware", .timeLimit(.minutes(1)))
struct HandleOrForwardMiddlewareTests {
    static func cluster(_ names: [String]) async throws -> ([HTTPNode], RingOwnerResolver) {
        let resolver = RingOwnerResolver()
        var nodes: [HTTPNode] = []
        var members: [NodeID: NodeAddress] = [:]
        for (index, name) in names.enumerated() {
            let id = NodeID(name: name, uid: UInt64(index + 1))
            let forwarding = HTTPForwarding<BasicRequestContext>()
            let localityRouter = LocalityRouting.Router(local: id, resolver: resolver, addresses: resolver, handler: forwarding)
            let transport = NodeTransport(identity: id, clusterKey: Array("http-test".utf8), handler: localityRouter)
            localityRouter.attach(transport)
            members[id] = try await transport.bind(host: "127.0.0.1", port: 0)
            let router = Hummingbird.Router(context: BasicRequestContext.self)
            router.add(middleware: HandleOrForwardMiddleware(router: localityRouter, forwarding: forwarding) { request, _ in
                let parts = request.uri.path.split(separator: "/")
                return parts.count == 2 && parts[0] == "who" ? String(parts[1]) : nil
            })
            router.get("/who/:key") { _, context in
                "\(name) \(try context.parameters.require("key"))"
            }
            router.get("/health") { _, _ in name }
            let responder = router.buildResponder()
            forwarding.attach(responder)
            nodes.append(HTTPNode(id: id, transport: transport, responder: responder))
        }
        resolver.update(members)
        return (nodes, resolver)
    }

    @Test func everyKeyIsAnsweredByItsOwnerWhicheverNodeTakesTheRequest() async throws {
        let (nodes, resolver) = try await Self.cluster(["h1", "h2", "h3"])
        var forwardedSomewhere = false
        for index in 0..<60 {
            let key = "user\(index)"
            let entry = nodes[index % 3]
            let owner = try #require(resolver.owner(of: key))
            let (status, body) = try await entry.get("/who/\(key)")
            #expect(status == .ok)
            #expect(body == "\(owner.name) \(key)")
            if owner != entry.id { forwardedSomewhere = true }
        }
        #expect(forwardedSomewhere)
        // Requests without a key stay where they are.
        #expect(try await nodes[1].get("/health").1 == "h2")
        for node in nodes { await node.transport.shutdown() }
    }

    @Test func aForgedForwardedHeaderDoesNotBypassRouting() async throws {
        let (nodes, resolver) = try await Self.cluster(["h1", "h2"])
        let key = try #require((0..<100).map { "k\($0)" }.first { resolver.owner(of: $0) == nodes[1].id })
        let forged: HTTPFields = [HTTPForwarding<BasicRequestContext>.forwardedHeader: "guess"]
        let (_, body) = try await nodes[0].get("/who/\(key)", headers: forged)
        #expect(body == "h2 \(key)")
        for node in nodes { await node.transport.shutdown() }
    }

    @Test func anUnreachableOwnerBecomesA503WithACode() async throws {
        let (nodes, resolver) = try await Self.cluster(["h1", "h2"])
        let key = try #require((0..<100).map { "k\($0)" }.first { resolver.owner(of: $0) == nodes[1].id })
        // h2 stays the owner but its address stops answering (a port that refuses every
        // connection; closing h2's server could hand its port to a parallel test's node).
        let unreachable = try UnreachablePort()
        resolver.update([nodes[0].id: resolver.address(of: nodes[0].id)!, nodes[1].id: NodeAddress(host: "127.0.0.1", port: unreachable.port)])
        let (status, body) = try await nodes[0].get("/who/\(key)")
        #expect(status == .serviceUnavailable)
        #expect(body.contains("\"code\":\"unavailable\""))
        for node in nodes { await node.transport.shutdown() }
    }

    @Test func forwardedHTTPRoundTrips() throws {
        let fields: HTTPFields = [.contentType: "text/plain", HTTPField.Name("x-a")!: "1"]
        let encoded = ForwardedHTTP.encode(method: .post, path: "/a?b=c", fields: fields, body: ByteBuffer(string: "hi"))
        let (method, path, decodedFields, body) = try ForwardedHTTP.decodeRequest(encoded)
        #expect(method == .post)
        #expect(path == "/a?b=c")
        #expect(decodedFields == fields)
        #expect(String(buffer: body) == "hi")
        #expect(throws: LocalityError.self) { _ = try ForwardedHTTP.decodeRequest(ByteBuffer(bytes: [3, 1])) }
    }
}
