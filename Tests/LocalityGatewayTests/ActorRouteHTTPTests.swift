import Foundation
import LocalityCore
import LocalityRouting
import Synchronization
import Testing
@testable import LocalityGateway

/// The actor route over a real server on loopback, one test per answer the API promises.
@Suite("Gateway actor route over HTTP", .timeLimit(.minutes(2)))
struct ActorRouteHTTPTests {
    @Test func aCallReturnsTheInvokersJSONAndPassesNamesAndArguments() async throws {
        let invoker = FakeInvoker.echo()
        try await GatewayHarness.withGateway(context: GatewayContext(invoker: invoker)) { _, port in
            let response = try await RawHTTPClient.post("/v1/actors/player/p%2F42/recordMatch", "{\"points\":12}", port: port)
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "application/json")
            #expect(response.body == "{\"kind\":\"player\",\"key\":\"p/42\",\"method\":\"recordMatch\",\"arguments\":{\"points\":12}}")
            // A method without arguments takes an empty body; a nil result is `null`.
            let empty = try await RawHTTPClient.post("/v1/actors/player/p1/reset", "", port: port)
            #expect(empty.status == 200)
            #expect(empty.body.hasSuffix("\"arguments\":null}"))
        }
        #expect(invoker.calls == 2)
    }

    @Test func anIdempotencyKeyReachesTheInvokerAndABadOneIs400() async throws {
        let invoker = FakeInvoker.echo()
        try await GatewayHarness.withGateway(context: GatewayContext(invoker: invoker)) { _, port in
            let keyed = try await RawHTTPClient.post(
                "/v1/actors/counter/c/increment", "{\"by\":1}", headers: ["Idempotency-Key": "6f1c-42"], port: port)
            #expect(keyed.status == 200)
            #expect(invoker.lastIdempotencyKey?.rawValue == "6f1c-42")
            let plain = try await RawHTTPClient.post("/v1/actors/counter/c/increment", "{\"by\":1}", port: port)
            #expect(plain.status == 200)
            #expect(invoker.lastIdempotencyKey == nil)
            for bad in ["has space", String(repeating: "k", count: 256)] {
                let response = try await RawHTTPClient.post(
                    "/v1/actors/counter/c/increment", "{}", headers: ["Idempotency-Key": bad], port: port)
                #expect(response.status == 400)
                #expect(response.errorCode == "bad_request")
            }
        }
        #expect(invoker.calls == 2)
    }

    @Test func anAnswerNamesTheOwnersGatewayAndTheRing() async throws {
        let nodes = (1...3).map { NodeID(name: "n\($0)", uid: UInt64($0)) }
        let resolver = RingOwnerResolver()
        resolver.update(
            Dictionary(uniqueKeysWithValues: nodes.map { ($0, NodeAddress(host: "127.0.0.1", port: 8000 + Int($0.uid))) }),
            gateways: Dictionary(uniqueKeysWithValues: nodes.map { ($0, "10.0.0.\($0.uid):9000") }))
        let invoker = FakeInvoker.echo()
        try await GatewayHarness.withGateway(context: GatewayContext(invoker: invoker, ring: resolver)) { _, port in
            for key in ["a", "b", "c", "d"] {
                let response = try await RawHTTPClient.post("/v1/actors/counter/\(key)/value", "{}", port: port)
                #expect(response.status == 200)
                let owner = try #require(resolver.owner(of: "counter/\(key)"))
                #expect(response.headers["locality-owner"] == "10.0.0.\(owner.uid):9000")
                #expect(response.headers["locality-ring"] == String(resolver.ring.checksum, radix: 16))
            }
            let ring = try await RawHTTPClient.get("/v1/cluster/ring", port: port)
            #expect(ring.body.contains(#""http":"10.0.0.2:9000""#), "\(ring.body)")
        }
        // Without a ring there is nothing to tell.
        try await GatewayHarness.withGateway(context: GatewayContext(invoker: invoker)) { _, port in
            let response = try await RawHTTPClient.post("/v1/actors/counter/a/value", "{}", port: port)
            #expect(response.headers["locality-owner"] == nil && response.headers["locality-ring"] == nil)
        }
    }

    @Test func malformedJSONIs400AndNeverReachesTheActor() async throws {
        let invoker = FakeInvoker.echo()
        try await GatewayHarness.withGateway(context: GatewayContext(invoker: invoker)) { _, port in
            let response = try await RawHTTPClient.post("/v1/actors/player/p1/recordMatch", "{\"points\":", port: port)
            #expect(response.status == 400)
            #expect(response.errorCode == "bad_request")
            let scalar = try await RawHTTPClient.post("/v1/actors/player/p1/recordMatch", "12", port: port)
            #expect(scalar.status == 400)
        }
        #expect(invoker.calls == 0)
    }

    @Test func argumentsTheActorRejectsAre400() async throws {
        let invoker = FakeInvoker.failing(LocalityError(.badRequest, "points: expected Int"))
        try await GatewayHarness.withGateway(context: GatewayContext(invoker: invoker)) { _, port in
            let response = try await RawHTTPClient.post("/v1/actors/player/p1/recordMatch", "{\"points\":\"x\"}", port: port)
            #expect(response.status == 400)
            #expect(response.body == "{\"error\":{\"code\":\"bad_request\",\"message\":\"points: expected Int\"}}")
        }
    }

    @Test func anUnknownTypeOrMethodIs404() async throws {
        let invoker = FakeInvoker.failing(LocalityError(.actorNotFound, "no actor kind 'ghost'"))
        try await GatewayHarness.withGateway(context: GatewayContext(invoker: invoker)) { _, port in
            let response = try await RawHTTPClient.post("/v1/actors/ghost/g1/boo", "{}", port: port)
            #expect(response.status == 404)
            #expect(response.errorCode == "actor_not_found")
            let noRoute = try await RawHTTPClient.get("/v2/nothing", port: port)
            #expect(noRoute.status == 404)
            #expect(noRoute.errorCode == "not_found")
        }
    }

    @Test func aServedPathWithAnotherMethodIs405WithAllow() async throws {
        try await GatewayHarness.withGateway(context: GatewayContext(invoker: FakeInvoker.echo())) { _, port in
            let actor = try await RawHTTPClient.request("GET", "/v1/actors/player/p1/current", port: port)
            #expect(actor.status == 405)
            #expect(actor.errorCode == "method_not_allowed")
            #expect(actor.headers["allow"] == "POST")
            let lookup = try await RawHTTPClient.request("DELETE", "/v1/cluster/lookup?key=a", port: port)
            #expect(lookup.status == 405)
            #expect(lookup.headers["allow"] == "GET, HEAD")
            // A path the gateway does not serve stays 404 whatever the method.
            #expect(try await RawHTTPClient.request("DELETE", "/v2/nothing", port: port).status == 404)
            // The served method itself is unchanged.
            #expect(try await RawHTTPClient.get("/healthz", port: port).status == 200)
        }
    }

    @Test func theRouteMethodTableMatchesTheOpenAPIDocument() {
        // Paths (two-space indent) and their operations (four-space indent) in the served document.
        var documented: [String: Set<String>] = [:]
        var current: String?
        for line in OpenAPIDocument.yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                current = String(line.dropFirst(2).dropLast())
            } else if !line.hasPrefix(" "), !line.isEmpty {
                current = nil
            } else if let path = current, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let word = line.trimmingCharacters(in: .whitespaces).dropLast().uppercased()
                if ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"].contains(word) { documented[path, default: []].insert(word) }
            }
        }
        #expect(!documented.isEmpty)
        for (path, methods) in documented {
            let probe = path == "/v1/actors/{type}/{id}/{method}" ? "/v1/actors/t/i/m" : path
            let served = Set((GatewayRouteMethods.allowed(for: probe) ?? []).map(\.rawValue)).subtracting(["HEAD"])
            #expect(served == methods, "\(path): documented \(methods), table \(served)")
        }
        #expect(Set(documented.keys.filter { !$0.contains("{") }).union(["/index.html"]) == Set(GatewayRouteMethods.fixed.keys))
    }

    @Test func aBodyOverTheLimitIs413ByContentLengthBeforeTheBodyIsSent() async throws {
        let invoker = FakeInvoker.echo()
        var settings = GatewaySettings()
        settings.maxBodyBytes = 64 * 1024
        try await GatewayHarness.withGateway(settings, context: GatewayContext(invoker: invoker)) { _, port in
            // Only the head goes out: the answer must not wait for the 10 MB body.
            let head = "POST /v1/actors/player/p1/recordMatch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n"
            let response = try await RawHTTPClient.exchange(port: port, parts: [Array(head.utf8)])
            #expect(response.status == 413)
            #expect(response.errorCode == "payload_too_large")
            #expect(response.headers["connection"] == "close")
        }
        #expect(invoker.calls == 0)
    }

    @Test func aStreamedBodyOverTheLimitIs413() async throws {
        let invoker = FakeInvoker.echo()
        var settings = GatewaySettings()
        settings.maxBodyBytes = 64 * 1024
        try await GatewayHarness.withGateway(settings, context: GatewayContext(invoker: invoker)) { _, port in
            let head = "POST /v1/actors/player/p1/recordMatch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            var parts: [[UInt8]] = [Array(head.utf8)]
            let chunk = [UInt8](repeating: UInt8(ascii: " "), count: 16 * 1024)
            for _ in 0..<8 { parts.append(Array("4000\r\n".utf8) + chunk + Array("\r\n".utf8)) }
            parts.append(Array("0\r\n\r\n".utf8))
            let response = try await RawHTTPClient.exchange(port: port, parts: parts)
            #expect(response.status == 413)
            #expect(response.errorCode == "payload_too_large")
        }
        #expect(invoker.calls == 0)
    }

    @Test func anActorMethodErrorIs422WithItsTypeAndDetail() async throws {
        let invoker = FakeInvoker.failing(ActorMethodError(type: "InsufficientFunds", json: Array("{\"balance\":3}".utf8)))
        try await GatewayHarness.withGateway(context: GatewayContext(invoker: invoker)) { _, port in
            let response = try await RawHTTPClient.post("/v1/actors/account/a1/withdraw", "{\"amount\":5}", port: port)
            #expect(response.status == 422)
            #expect(response.body == "{\"error\":{\"code\":\"method_error\",\"message\":\"actor method threw InsufficientFunds\",\"type\":\"InsufficientFunds\",\"detail\":{\"balance\":3}}}")
        }
    }

    @Test func aClientOverItsRateIs429WithRetryAfter() async throws {
        var settings = GatewaySettings()
        // Two requests of burst, then a token every 1,000 s: the third is refused.
        settings.rateLimit = RateLimitSettings(ratePerSecond: 0.001, burst: 2, maxClients: 16)
        try await GatewayHarness.withGateway(settings, context: GatewayContext(invoker: FakeInvoker.echo())) { server, port in
            for _ in 0..<2 {
                #expect(try await RawHTTPClient.post("/v1/actors/player/p1/get", "{}", port: port).status == 200)
            }
            let refused = try await RawHTTPClient.post("/v1/actors/player/p1/get", "{}", port: port)
            #expect(refused.status == 429)
            #expect(refused.errorCode == "overloaded")
            let retryAfter = try #require(refused.headers["retry-after"].flatMap { Int($0) })
            #expect(retryAfter >= 1 && retryAfter <= 1_000)
            // Health stays outside the limit.
            #expect(try await RawHTTPClient.get("/healthz", port: port).status == 200)
            #expect(server.rateLimiter?.clientCount == 1)
        }
    }

    @Test func fullInFlightAndQueueIs503WithRetryAfter() async throws {
        let gate = Gate()
        let invoker = FakeInvoker { _, _, _, _, _ in
            await gate.wait()
            return Array("1".utf8)
        }
        var settings = GatewaySettings()
        settings.maxInFlight = 1
        settings.maxQueued = 1
        settings.maxQueueWait = .seconds(60)
        settings.retryAfterSeconds = 3
        try await GatewayHarness.withGateway(settings, context: GatewayContext(invoker: invoker)) { server, port in
            async let first = RawHTTPClient.post("/v1/actors/player/p1/slow", "{}", port: port)
            async let second = RawHTTPClient.post("/v1/actors/player/p2/slow", "{}", port: port)
            let filled = await GatewayHarness.eventually { server.limiter.depths == (1, 1) }
            #expect(filled)
            let refused = try await RawHTTPClient.post("/v1/actors/player/p3/slow", "{}", port: port)
            #expect(refused.status == 503)
            #expect(refused.errorCode == "overloaded")
            #expect(refused.headers["retry-after"] == "3")
            gate.open()
            #expect(try await first.status == 200)
            #expect(try await second.status == 200)
        }
        #expect(invoker.calls == 2)
    }

    @Test func overloadedAndUnavailableFromTheRuntimeAre503WithRetryAfter() async throws {
        for code in [LocalityError.Code.overloaded, .unavailable] {
            let invoker = FakeInvoker.failing(LocalityError(code, "owner busy"))
            try await GatewayHarness.withGateway(context: GatewayContext(invoker: invoker)) { _, port in
                let response = try await RawHTTPClient.post("/v1/actors/player/p1/get", "{}", port: port)
                #expect(response.status == 503)
                #expect(response.errorCode == code.rawValue)
                #expect(response.headers["retry-after"] == "1")
            }
        }
    }

    @Test func aDeadlineIs504WhetherTheRuntimeReportsItOrTheCallHangs() async throws {
        let reported = FakeInvoker.failing(LocalityError(.deadlineExceeded, "owner did not answer"))
        try await GatewayHarness.withGateway(context: GatewayContext(invoker: reported)) { _, port in
            let response = try await RawHTTPClient.post("/v1/actors/player/p1/get", "{}", port: port)
            #expect(response.status == 504)
            #expect(response.errorCode == "deadline_exceeded")
        }
        // An invoker that ignores its timeout: the gateway's own deadline answers.
        let hanging = FakeInvoker { _, _, _, _, _ in
            try await Task.sleep(for: .seconds(3_600))
            return []
        }
        try await GatewayHarness.withGateway(context: GatewayContext(invoker: hanging)) { server, port in
            let response = try await RawHTTPClient.post("/v1/actors/player/p1/get", "{}", headers: ["X-Locality-Timeout-Ms": "200"], port: port)
            #expect(response.status == 504)
            #expect(response.errorCode == "deadline_exceeded")
            // The slot came back.
            #expect(await GatewayHarness.eventually { server.limiter.depths == (0, 0) })
        }
    }

    @Test func aConflictIs409() async throws {
        let invoker = FakeInvoker.failing(LocalityError(.conflict, "stale etag"))
        try await GatewayHarness.withGateway(context: GatewayContext(invoker: invoker)) { _, port in
            let response = try await RawHTTPClient.post("/v1/actors/player/p1/save", "{}", port: port)
            #expect(response.status == 409)
            #expect(response.errorCode == "conflict")
        }
    }

    @Test func anUnexpectedErrorIs500WithoutItsInternals() async throws {
        struct Secret: Error { let path = "/var/lib/secret.db" }
        let invoker = FakeInvoker.failing(Secret())
        try await GatewayHarness.withGateway(context: GatewayContext(invoker: invoker)) { _, port in
            let response = try await RawHTTPClient.post("/v1/actors/player/p1/get", "{}", port: port)
            #expect(response.status == 500)
            #expect(response.body == "{\"error\":{\"code\":\"internal\",\"message\":\"internal error\"}}")
        }
    }

    @Test func healthIsAlwaysOkAndReadinessFollowsTheContext() async throws {
        let ready = ReadyFlag()
        let context = GatewayContext(invoker: FakeInvoker.echo(), isReady: { ready.value })
        try await GatewayHarness.withGateway(context: context) { _, port in
            #expect(try await RawHTTPClient.get("/healthz", port: port).status == 200)
            let notReady = try await RawHTTPClient.get("/readyz", port: port)
            #expect(notReady.status == 503)
            #expect(notReady.headers["retry-after"] != nil)
            ready.set()
            #expect(try await RawHTTPClient.get("/readyz", port: port).status == 200)
        }
    }
}

/// A readiness flag a test flips.
final class ReadyFlag: Sendable {
    private let flag = Synchronization.Atomic<Bool>(false)
    var value: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}
