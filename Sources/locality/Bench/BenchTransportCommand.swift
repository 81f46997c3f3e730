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
/// to redis-benchmark PING_MBULK at the same client count in the same run. With `--tls`,
/// the same load also runs over mutual TLS against a second server, plain and TLS taking
/// turns (two rounds each, half the duration per round) so both see the same machine.
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

    @Flag(help: "Also measure mutual TLS (development certificates), alternating with plain TCP.")
    var tls = false

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
        var payload = ByteBuffer()
        payload.writeRepeatingByte(0x78, count: payloadBytes)
        let plain = try await EchoTarget.start(key: key, tlsDirectory: nil, concurrency: concurrency, payload: payload)
        defer { plain.server.stop() }
        var tlsTarget: EchoTarget?
        var certificates: URL?
        if tls {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("locality-bench-tls-\(UUID().uuidString)")
            certificates = directory
            try Self.writeCertificates(into: directory)
            tlsTarget = try await EchoTarget.start(key: key, tlsDirectory: directory.path, concurrency: concurrency, payload: payload)
        }
        defer {
            tlsTarget?.server.stop()
            if let certificates { try? FileManager.default.removeItem(at: certificates) }
        }
        _ = try await plain.run(seconds: 1)
        _ = try await tlsTarget?.run(seconds: 1)
        var measured = try await plain.run(seconds: tlsTarget == nil ? duration : duration / 2)
        var tlsMeasured: ClosedLoop.Result?
        if let tlsTarget {
            var first = try await tlsTarget.run(seconds: duration / 2)
            measured.merge(try await plain.run(seconds: duration / 2))
            first.merge(try await tlsTarget.run(seconds: duration / 2))
            tlsMeasured = first
        }
        await plain.client.shutdown()
        plain.server.stop()
        await tlsTarget?.client.shutdown()
        tlsTarget?.server.stop()

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
            ratioVsRedis: redis.map { ($0 > 0 ? throughput / $0 : 0) }.map { ($0 * 1000).rounded() / 1000 },
            tls: tlsMeasured.map { TLSComparison(plain: measured, tls: $0) }
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
    var tls: TLSComparison?

    /// The TLS comparison's keys sit at the top level of the JSON object.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(concurrency, forKey: .concurrency)
        try container.encode(calls, forKey: .calls)
        try container.encode(errors, forKey: .errors)
        try container.encode(durationSeconds, forKey: .durationSeconds)
        try container.encode(payloadBytes, forKey: .payloadBytes)
        try container.encode(throughputRPS, forKey: .throughputRPS)
        try container.encode(p50Milliseconds, forKey: .p50Milliseconds)
        try container.encode(p99Milliseconds, forKey: .p99Milliseconds)
        try container.encode(p999Milliseconds, forKey: .p999Milliseconds)
        try container.encode(maxMilliseconds, forKey: .maxMilliseconds)
        try container.encodeIfPresent(redisPingRPS, forKey: .redisPingRPS)
        try container.encodeIfPresent(redisP50Milliseconds, forKey: .redisP50Milliseconds)
        try container.encodeIfPresent(redisP99Milliseconds, forKey: .redisP99Milliseconds)
        try container.encodeIfPresent(ratioVsRedis, forKey: .ratioVsRedis)
        try tls?.encode(to: encoder)
    }

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
        """ + (tls.map { "\n" + $0.text } ?? "")
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
