import Foundation
import LocalityCore
import NIOCore
import NIOPosix
import Testing
@testable import LocalityGateway

@Suite("Gateway metrics and connection limits", .timeLimit(.minutes(2)))
struct MetricsAndConnectionTests {
    /// The value of the first sample line starting with `prefix` in Prometheus text.
    static func value(_ prefix: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { $0.split(separator: " ").last.flatMap { Double($0) } }
    }

    @Test func metricsExportsTheGatewayCountersInPrometheusFormat() async throws {
        LocalityMetrics.bootstrap()
        let invoker = FakeInvoker.failing(LocalityError(.conflict, "stale"))
        try await GatewayHarness.withGateway(context: GatewayContext(invoker: invoker)) { _, port in
            for _ in 0..<3 { _ = try await RawHTTPClient.post("/v1/actors/player/p1/save", "{}", port: port) }
            let scrape = try await RawHTTPClient.get("/metrics", port: port)
            #expect(scrape.status == 200)
            #expect(scrape.headers["content-type"]?.hasPrefix("text/plain") == true)
            let conflicts = Self.value("locality_gateway_requests_total{route=\"actor\",status=\"409\"}", in: scrape.body)
            #expect((conflicts ?? 0) >= 3)
            #expect(scrape.body.contains("locality_gateway_request_duration_seconds_bucket{route=\"actor\""))
            #expect(scrape.body.contains("locality_gateway_in_flight"))
            #expect(scrape.body.contains("locality_gateway_rejected_total{reason=\"queue_full\"}"))
        }
    }

    /// Opens a connection and holds it; returns the channel.
    static func connect(_ port: Int) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
    }

    /// Whether the server closes `channel` (end of stream or reset) before answering anything.
    static func closedWithoutAnswer(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async -> Bool {
        do {
            return try await channel.executeThenClose { inbound, _ in
                for try await _ in inbound { return false }
                return true
            }
        } catch {
            return true
        }
    }

    @Test func connectionsOverTheCapAreClosedAndCounted() async throws {
        var settings = GatewaySettings()
        settings.maxConnections = 2
        try await GatewayHarness.withGateway(settings, context: GatewayContext(invoker: FakeInvoker.echo())) { server, port in
            let held = [try await Self.connect(port), try await Self.connect(port)]
            #expect(await GatewayHarness.eventually { server.connections.current == 2 })
            let third = try await Self.connect(port)
            #expect(await Self.closedWithoutAnswer(third))
            #expect(server.connections.refused >= 1)
            // Once a held connection goes, a new client is served again.
            try await held[0].channel.close()
            #expect(await GatewayHarness.eventually { server.connections.current <= 1 })
            #expect(try await RawHTTPClient.get("/healthz", port: port).status == 200)
            try await held[1].channel.close()
        }
    }

    @Test func aSlowlorisClientIsClosedWhileOthersAreServed() async throws {
        var settings = GatewaySettings()
        // Long enough that a loaded machine still parses a well-behaved request in time.
        settings.idleTimeout = .seconds(2)
        try await GatewayHarness.withGateway(settings, context: GatewayContext(invoker: FakeInvoker.echo())) { _, port in
            let channel = try await Self.connect(port)
            // One header byte every 100 ms: the head would take 47 s to arrive.
            let head = Array("POST /v1/actors/player/p1/get HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: \(String(repeating: "a", count: 400))\r\n\r\n".utf8)
            // nil: the server closed (end of stream or reset) first; else the bytes written
            // before a write failed, or all of them.
            let sent: Int? = try? await channel.executeThenClose { inbound, outbound in
                await withTaskGroup(of: Int?.self) { group in
                    group.addTask {
                        do { for try await _ in inbound {} } catch {}
                        return nil
                    }
                    group.addTask {
                        for (index, byte) in head.enumerated() {
                            do { try await outbound.write(ByteBuffer(bytes: [byte])) } catch { return index }
                            do { try await Task.sleep(for: .milliseconds(100)) } catch { return index }
                        }
                        return head.count
                    }
                    defer { group.cancelAll() }
                    return await group.next() ?? nil
                }
            }
            // The server closed first (nil) or the write failed part-way: either way the
            // whole head was never accepted.
            #expect(sent == nil || sent! < head.count)
            #expect(try await RawHTTPClient.post("/v1/actors/player/p1/get", "{}", port: port).status == 200)
        }
    }
}

@Suite("Gateway slow bodies", .timeLimit(.minutes(2)))
struct SlowBodyTests {
    @Test func aBodyThatDoesNotArriveInTimeIs408AndFreesTheSlot() async throws {
        var settings = GatewaySettings()
        settings.bodyTimeout = .milliseconds(300)
        settings.lingerTime = .seconds(30)
        let invoker = FakeInvoker.echo()
        try await GatewayHarness.withGateway(settings, context: GatewayContext(invoker: invoker)) { server, port in
            // Announces 100 bytes, sends 10, then waits (the raw client reads meanwhile).
            let head = "POST /v1/actors/player/p1/get HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":1234"
            let response = try await RawHTTPClient.exchange(port: port, parts: [Array(head.utf8)])
            #expect(response.status == 408)
            #expect(response.errorCode == "deadline_exceeded")
            #expect(response.headers["connection"] == "close")
            #expect(await GatewayHarness.eventually { server.limiter.depths == (0, 0) })
        }
        #expect(invoker.calls == 0)
    }
}
