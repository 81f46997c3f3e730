import Foundation
import LocalityClient
import NIOCore
import NIOHTTP1

/// The harness's own HTTP requests to a target on 127.0.0.1 (readiness, probes, metrics,
/// lookups), over the package's `HTTPClientConnection`: one connection per request, closed
/// after the reply, the reply awaited at most `timeout` (connecting to a loopback port
/// is answered at once, or fails after NIO's 10 s connect timeout at most).
enum GatewayBenchProbe {
    static func request(
        port: Int, _ method: HTTPMethod, _ path: String, json body: String? = nil, timeout: Duration = .seconds(10)
    ) async throws -> HTTPReply {
        let connection = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port)
        do {
            let reply = try await connection.send(method, path, json: body.map { ByteBuffer(string: $0) }, timeout: timeout)
            await connection.close()
            return reply
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Whether `GET /readyz` answers 200 within 2 s.
    static func ready(port: Int) async -> Bool {
        (try? await request(port: port, .GET, "/readyz", timeout: .seconds(2)).status) == 200
    }

    /// The body of `GET path` when it answers 200, else nil.
    static func text(port: Int, _ path: String, timeout: Duration = .seconds(10)) async -> String? {
        guard let reply = try? await request(port: port, .GET, path, timeout: timeout), reply.status == 200 else { return nil }
        return String(buffer: reply.body)
    }

    /// The JSON object `GET path` answers with 200, else nil.
    static func object(port: Int, _ path: String, timeout: Duration = .seconds(5)) async -> [String: Any]? {
        guard let text = await text(port: port, path, timeout: timeout) else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    }
}

/// Reads figures out of the Prometheus text format of `/metrics`.
enum PrometheusText {
    /// The sum of every sample of `name` (any labels) whose line contains `containing`.
    static func sum(_ text: String, _ name: String, containing: String? = nil) -> Double {
        var total = 0.0
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            let rest = line.dropFirst(name.count)
            guard rest.first == "{" || rest.first == " " else { continue }
            if let containing, !line.contains(containing) { continue }
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { total += value }
        }
        return total
    }

    /// Forwards and actor calls of one or more nodes' `/metrics` texts.
    static func forwardsAndCalls(_ texts: [String]) -> (forwards: Double, calls: Double) {
        let forwards = texts.map { sum($0, "locality_routing_forwards") }.reduce(0, +)
        let calls = texts.map { sum($0, "locality_gateway_requests_total", containing: "route=\"actor\"") }.reduce(0, +)
        return (forwards, calls)
    }

    /// Forwards / actor calls between two readings of the same nodes' `/metrics`.
    static func forwardedShare(before: [String], after: [String]) -> Double? {
        let (forwardsBefore, callsBefore) = forwardsAndCalls(before)
        let (forwardsAfter, callsAfter) = forwardsAndCalls(after)
        let calls = callsAfter - callsBefore
        return calls > 0 ? (forwardsAfter - forwardsBefore) / calls : nil
    }

    /// Actor-route answers by status: `locality_gateway_requests_total{route="actor",status="…"}`.
    static func actorStatuses(_ text: String) -> [String: Int] {
        var statuses: [String: Int] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("locality_gateway_requests_total{") && line.contains("route=\"actor\"") {
            guard let start = line.range(of: "status=\"") else { continue }
            let status = line[start.upperBound...].prefix { $0 != "\"" }
            guard let value = line.split(separator: " ").last.flatMap({ Double($0) }), value > 0 else { continue }
            statuses[String(status), default: 0] += Int(value)
        }
        return statuses
    }
}
