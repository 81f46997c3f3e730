import Benchmark
import HTTPTypes
import Hummingbird
import LocalityActors
import LocalityCore
import LocalityGateway
import LocalityStorage
import Logging
import NIOCore
import NIOEmbedded
import Synchronization

/// The gateway's endpoints (`GatewayServer.makeResponder()`) over a `ClusterSystem` with
/// one ready `BenchCounter` activation, made in a benchmark's setup: samples measure what
/// the gateway does per request once the HTTP codec has parsed it (middleware, router,
/// admission, body, deadline, JSON arguments, the actor call and the JSON answer).
final class GatewayFixture: Sendable {
    private struct Running: Sendable {
        let system: ClusterSystem
        let responder: any HTTPResponder<GatewayRequestContext>
        let channel: NIOAsyncTestingChannel
    }

    private let running = Mutex<Running?>(nil)
    private let logger = Logger(label: "bench.gateway")

    /// Starts the system and activates the counter with a first call through the gateway.
    func start() async throws {
        let system = ClusterSystem(stateStore: MemoryStateStore())
        try system.register(BenchCounter.self, kind: "counter") { _, system in BenchCounter(actorSystem: system) }
        let gateway = GatewayServer(settings: GatewaySettings(), context: GatewayContext(invoker: system))
        let running = Running(system: system, responder: gateway.makeResponder(), channel: NIOAsyncTestingChannel())
        self.running.withLock { $0 = running }
        try await call("read", body: "{}")
    }

    /// `POST /v1/actors/counter/one/<method>` with `body`, answered by the gateway's
    /// responder; throws unless the answer is 200.
    func call(_ method: String, body: String) async throws {
        guard let running = running.withLock({ $0 }) else { throw LocalityError(.unavailable, "benchmark fixture not started") }
        let head = HTTPRequest(
            method: .post, scheme: "http", authority: "127.0.0.1", path: "/v1/actors/counter/one/\(method)",
            headerFields: [.contentType: "application/json", .contentLength: "\(body.utf8.count)"])
        let request = Request(head: head, body: RequestBody(buffer: ByteBuffer(string: body)))
        let context = GatewayRequestContext(source: ApplicationRequestContextSource(channel: running.channel, logger: logger))
        let status = try await running.responder.respond(to: request, context: context).status
        guard status == .ok else { throw LocalityError(.internal, "POST \(head.path ?? "") answered \(status)") }
    }

    /// Shuts the system down.
    func stop() async {
        let system = running.withLock { running -> ClusterSystem? in
            defer { running = nil }
            return running?.system
        }
        await system?.shutdown()
    }
}

/// The gateway's per-request path, in process: one `POST /v1/actors/{type}/{id}/{method}`
/// per operation, from a parsed request to the response (its body is not written out).
func gatewayBenchmarks() {
    let fixture = GatewayFixture()
    // A read answered from memory (the `read_memory` setup of `locality bench gateway`).
    Benchmark("gateway.actor-read", configuration: .localityAmortised) { benchmark in
        for _ in benchmark.scaledIterations {
            try await fixture.call("read", body: "{}")
        }
    } setup: {
        try await fixture.start()
    } teardown: {
        await fixture.stop()
    }

    // A call with an argument (`add(_:)`, positional JSON array), on the memory store.
    Benchmark("gateway.actor-add", configuration: .localityAmortised) { benchmark in
        for _ in benchmark.scaledIterations {
            try await fixture.call("add", body: "[1]")
        }
    } setup: {
        try await fixture.start()
    } teardown: {
        await fixture.stop()
    }
}
