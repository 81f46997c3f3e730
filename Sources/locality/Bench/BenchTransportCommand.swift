import ArgumentParser
import Foundation
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
        let server = try EchoServerProcess.start(clusterKey: key)
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

        _ = try await ClosedLoop.run(client: client, peer: peer, payload: payload, concurrency: concurrency, seconds: 1)
        let measured = try await ClosedLoop.run(client: client, peer: peer, payload: payload, concurrency: concurrency, seconds: duration)
        await client.shutdown()
        server.stop()

        let redis = redisRequests > 0 ? RedisBaseline.pingMbulk(script: redisScript, clients: concurrency, requests: redisRequests) : nil
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
            ratioVsRedis: redis.map { ($0 > 0 ? throughput / $0 : 0) }.map { ($0 * 1000).rounded() / 1000 }
        )
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
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
        case ratioVsRedis = "ratio_vs_redis"
    }

    var text: String {
        """
        transport: \(Int(throughputRPS)) calls/s at concurrency \(concurrency) (\(calls) calls, \(errors) errors in \(durationSeconds) s)
        latency: p50 \(p50Milliseconds) ms, p99 \(p99Milliseconds) ms, p99.9 \(p999Milliseconds) ms, max \(maxMilliseconds) ms
        redis PING_MBULK: \(redisPingRPS.map { "\(Int($0)) requests/s" } ?? "skipped"), ratio \(ratioVsRedis.map { "\($0)" } ?? "n/a")
        """
    }
}

/// C workers, each with one call outstanding, for a fixed time (closed loop).
enum ClosedLoop {
    struct Result {
        var calls = 0
        var errors = 0
        var elapsedSeconds = 0.0
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)

        func milliseconds(at percentile: Double) -> Double {
            let nanoseconds = percentile >= 100 ? histogram.max : histogram.valueAtPercentile(percentile)
            return (Double(nanoseconds) / 1e6 * 1000).rounded() / 1000
        }
    }

    static func run(client: NodeTransport, peer: NodeAddress, payload: ByteBuffer, concurrency: Int, seconds: Double) async throws -> Result {
        let start = NIODeadline.now()
        let end = start + .nanoseconds(Int64(seconds * 1e9))
        var total = try await withThrowingTaskGroup(of: Result.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var result = Result()
                    while true {
                        let before = NIODeadline.now()
                        if before >= end { break }
                        do {
                            _ = try await client.call(peer, payload: payload, deadline: before + .seconds(5))
                            result.calls += 1
                        } catch {
                            result.errors += 1
                        }
                        _ = result.histogram.record(NIODeadline.now().uptimeNanoseconds - before.uptimeNanoseconds)
                    }
                    return result
                }
            }
            var total = Result()
            for try await part in group {
                total.calls += part.calls
                total.errors += part.errors
                total.histogram.add(part.histogram)
            }
            return total
        }
        total.elapsedSeconds = Double(NIODeadline.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return total
    }
}

/// The echo server as a child `locality` process.
final class EchoServerProcess {
    let process: Process
    let stdin: Pipe
    let port: Int

    private init(process: Process, stdin: Pipe, port: Int) {
        self.process = process
        self.stdin = stdin
        self.port = port
    }

    static func start(clusterKey: [UInt8]) throws -> EchoServerProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["transport-echo-server", "--port", "0"]
        var environment = ProcessInfo.processInfo.environment
        environment["LOCALITY_CLUSTER_KEY"] = ClusterKeyHex.encode(clusterKey)
        process.environment = environment
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = stdout.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw ValidationError("echo server exited before it was ready") }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("ready "), let port = Int(text.dropFirst(6)) else {
            throw ValidationError("echo server said \(text)")
        }
        return EchoServerProcess(process: process, stdin: stdin, port: port)
    }

    func stop() {
        guard process.isRunning else { return }
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

/// redis-benchmark PING_MBULK through `scripts/bench-redis.sh`.
enum RedisBaseline {
    static func pingMbulk(script: String, clients: Int, requests: Int) -> Double? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, "\(clients)", "\(requests)"]
        let output = Pipe()
        process.standardOutput = output
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.split(separator: "\n").last.flatMap { Double($0) }
    }
}
