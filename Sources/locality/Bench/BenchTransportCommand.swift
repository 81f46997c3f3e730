import ArgumentParser
import Foundation
import Subprocess
import Histogram
import LocalityCore
import LocalityTransport
import NIOCore
import NIOPosix

/// `locality bench transport`: request/response between two processes on loopback over
/// one multiplexed node-transport connection, closed loop at a fixed concurrency, next
/// to redis-benchmark PING_MBULK at the same client count in the same run.
struct BenchTransportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transport",
        abstract: "Measure node-transport request/response against redis-benchmark PING_MBULK."
    )

    @Option(help: "Calls outstanding at once (and redis-benchmark clients).")
    var concurrency: Int = 64

    @Option(help: "Measured seconds (after a 1 s warm-up).")
    var duration: Double = 10

    @Option(help: "Payload bytes per call (echoed back).")
    var payloadBytes: Int = 16

    @Option(help: "redis-benchmark requests (0 skips the Redis baseline).")
    var redisRequests: Int = 1_000_000

    @Option(help: "Path of the Redis baseline script.")
    var redisScript: String = "scripts/bench-redis.sh"

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard concurrency >= 1, concurrency <= 4096 else { throw ValidationError("--concurrency must be 1…4096") }
        guard duration > 0, duration <= 600 else { throw ValidationError("--duration must be in (0, 600] seconds") }
        guard payloadBytes >= 0, payloadBytes <= 1 << 20 else { throw ValidationError("--payload-bytes must be 0…1 MiB") }
    }

    func run() async throws {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let key = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let server = try BenchServerChild.start(["transport-echo-server", "--port", "0"], clusterKey: key)
        defer { server.stop() }
        var settings = TransportSettings()
        settings.maxInFlightPerConnection = max(settings.maxInFlightPerConnection, concurrency * 2)
        let client = NodeTransport(
            identity: NodeID(name: "bench-client", uid: UInt64.random(in: 1...UInt64.max)), clusterKey: key,
            settings: settings, handler: TransportEchoServerCommand.Echo()
        )
        let peer = NodeAddress(host: "127.0.0.1", port: server.port)
        var payload = ByteBuffer()
        payload.writeRepeatingByte(0x78, count: payloadBytes)

        let loop: @Sendable (Double) async throws -> ClosedLoop.Result = { [concurrency, payload] seconds in
            try await ClosedLoop.run(concurrency: concurrency, seconds: seconds) { _, _ in
                _ = try await client.call(peer, payload: payload, deadline: .now() + .seconds(5))
            }
        }
        _ = try await loop(1)
        let measured = try await loop(duration)
        await client.shutdown()
        server.stop()

        let redisRun = redisRequests > 0 ? await RedisBaseline.pingMbulk(script: redisScript, clients: concurrency, requests: redisRequests) : nil
        let redis = redisRun?.requestsPerSecond
        let throughput = Double(measured.calls) / measured.elapsedSeconds
        let report = TransportBenchReport(
            concurrency: concurrency,
            durationSeconds: measured.elapsedSeconds,
            payloadBytes: payloadBytes,
            calls: measured.calls,
            errors: measured.errors,
            throughputRPS: throughput.rounded(),
            p50Milliseconds: measured.milliseconds(at: 50),
            p99Milliseconds: measured.milliseconds(at: 99),
            p999Milliseconds: measured.milliseconds(at: 99.9),
            maxMilliseconds: measured.milliseconds(at: 100),
            redisPingRPS: redis,
            redisP50Milliseconds: redisRun?.p50Milliseconds,
            redisP99Milliseconds: redisRun?.p99Milliseconds,
            ratioVsRedis: redis.map { ($0 > 0 ? throughput / $0 : 0) }.map { ($0 * 1000).rounded() / 1000 }
        )
        if json {
            print(try report.sortedKeysJSON())
        } else {
            print(report.text)
        }
    }
}

/// What `bench transport` prints.
struct TransportBenchReport: Encodable {
    var concurrency: Int
    var durationSeconds: Double
    var payloadBytes: Int
    var calls: Int
    var errors: Int
    var throughputRPS: Double
    var p50Milliseconds: Double
    var p99Milliseconds: Double
    var p999Milliseconds: Double
    var maxMilliseconds: Double
    var redisPingRPS: Double?
    var redisP50Milliseconds: Double?
    var redisP99Milliseconds: Double?
    var ratioVsRedis: Double?

    enum CodingKeys: String, CodingKey {
        case concurrency, calls, errors
        case durationSeconds = "duration_s"
        case payloadBytes = "payload_bytes"
        case throughputRPS = "throughput_rps"
        case p50Milliseconds = "p50_ms"
        case p99Milliseconds = "p99_ms"
        case p999Milliseconds = "p999_ms"
        case maxMilliseconds = "max_ms"
        case redisPingRPS = "redis_ping_rps"
        case redisP50Milliseconds = "redis_p50_ms"
        case redisP99Milliseconds = "redis_p99_ms"
        case ratioVsRedis = "ratio_vs_redis"
    }

    var text: String {
        """
        transport: \(Int(throughputRPS)) calls/s at concurrency \(concurrency) (\(calls) calls, \(errors) errors in \(durationSeconds) s)
        latency: p50 \(p50Milliseconds) ms, p99 \(p99Milliseconds) ms, p99.9 \(p999Milliseconds) ms, max \(maxMilliseconds) ms
        redis PING_MBULK: \(redisPingRPS.map { "\(Int($0)) requests/s" } ?? "skipped") (p50 \(redisP50Milliseconds ?? 0) ms, p99 \(redisP99Milliseconds ?? 0) ms), ratio \(ratioVsRedis.map { "\($0)" } ?? "n/a")
        """
    }
}

/// redis-benchmark PING_MBULK through `scripts/bench-redis.sh`.
///
/// redis-benchmark opens one connection per client, each with one request outstanding
/// (no pipelining); the transport bench multiplexes the same number of outstanding calls
/// over one connection, flushing them in batches.
enum RedisBaseline {
    struct Run {
        var requestsPerSecond: Double
        var p50Milliseconds: Double?
        var p99Milliseconds: Double?
    }

    static func pingMbulk(script: String, clients: Int, requests: Int) async -> Run? {
        // swift-subprocess reaps the child itself (no Process.waitUntilExit to hang on).
        guard let result = try? await run(
            .path("/bin/bash"), arguments: [script, "\(clients)", "\(requests)"], output: .string(limit: 1 << 20))
        else { return nil }
        let text = result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let line = text.split(separator: "\n").last else { return nil }
        let fields = line.split(separator: " ").map { Double($0) }
        guard let rps = fields.first ?? nil else { return nil }
        return Run(
            requestsPerSecond: rps,
            p50Milliseconds: fields.count > 1 ? fields[1] : nil,
            p99Milliseconds: fields.count > 2 ? fields[2] : nil
        )
    }
}
