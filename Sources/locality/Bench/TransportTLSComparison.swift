import Foundation
import LocalityCore
import LocalityTransport
import NIOCore

/// One echo server child and the client transport that loads it (`bench transport`).
struct EchoTarget {
    let server: BenchServerChild
    let client: NodeTransport
    let peer: NodeAddress
    let concurrency: Int
    let payload: ByteBuffer

    /// Starts `transport-echo-server` (with mutual TLS from `tlsDirectory` when given) and
    /// a client transport with the same TLS files (as node "client").
    static func start(key: [UInt8], tlsDirectory: String?, concurrency: Int, payload: ByteBuffer) async throws -> EchoTarget {
        let server = try BenchServerChild.start(
            ["transport-echo-server", "--port", "0"] + (tlsDirectory.map { ["--tls-directory", $0] } ?? []), clusterKey: key)
        var settings = TransportSettings()
        settings.maxInFlightPerConnection = max(settings.maxInFlightPerConnection, concurrency * 2)
        settings.tls = tlsDirectory.map { TransportTLSSettings(directory: $0, node: "client") }
        let client = NodeTransport(
            identity: NodeID(name: "bench-client", uid: UInt64.random(in: 1...UInt64.max)), clusterKey: key,
            settings: settings, handler: TransportEchoServerCommand.Echo()
        )
        return EchoTarget(server: server, client: client, peer: NodeAddress(host: "127.0.0.1", port: server.port),
                          concurrency: concurrency, payload: payload)
    }

    /// Closed-loop echo calls for `seconds`.
    func run(seconds: Double) async throws -> ClosedLoop.Result {
        let client = client
        let peer = peer
        let payload = payload
        return try await ClosedLoop.run(concurrency: concurrency, seconds: seconds) { _, _ in
            _ = try await client.call(peer, payload: payload, deadline: .now() + .seconds(5))
        }
    }
}

extension BenchTransportCommand {
    /// A development CA with certificates for the echo server and the client.
    static func writeCertificates(into directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let authority = try DevelopmentCertificates(name: "bench CA", days: 1)
        try authority.bundlePEM().write(to: directory.appendingPathComponent("ca.pem"), atomically: true, encoding: .utf8)
        for node in ["echo", "client"] {
            let pair = try authority.issue(node, days: 1)
            try pair.certificate.write(to: directory.appendingPathComponent("\(node).crt"), atomically: true, encoding: .utf8)
            try pair.key.write(to: directory.appendingPathComponent("\(node).key"), atomically: true, encoding: .utf8)
        }
    }
}

/// Plain against mutual TLS in the same run (`bench transport --tls`).
struct TLSComparison: Encodable {
    var plainCallsPerSecond: Double
    var tlsCallsPerSecond: Double
    var tlsRatio: Double
    var plainP99Milliseconds: Double
    var tlsP99Milliseconds: Double
    var tlsP50Milliseconds: Double
    var tlsErrors: Int

    init(plain: ClosedLoop.Result, tls: ClosedLoop.Result) {
        plainCallsPerSecond = (Double(plain.calls) / plain.elapsedSeconds).rounded()
        tlsCallsPerSecond = (Double(tls.calls) / tls.elapsedSeconds).rounded()
        tlsRatio = plainCallsPerSecond > 0 ? ((tlsCallsPerSecond / plainCallsPerSecond) * 1000).rounded() / 1000 : 0
        plainP99Milliseconds = plain.milliseconds(at: 99)
        tlsP99Milliseconds = tls.milliseconds(at: 99)
        tlsP50Milliseconds = tls.milliseconds(at: 50)
        tlsErrors = tls.errors
    }

    enum CodingKeys: String, CodingKey {
        case plainCallsPerSecond = "plain_calls_per_s"
        case tlsCallsPerSecond = "tls_calls_per_s"
        case tlsRatio = "tls_ratio"
        case plainP99Milliseconds = "plain_p99_ms"
        case tlsP99Milliseconds = "tls_p99_ms"
        case tlsP50Milliseconds = "tls_p50_ms"
        case tlsErrors = "tls_errors"
    }

    var text: String {
        "TLS: \(Int(tlsCallsPerSecond)) calls/s against \(Int(plainCallsPerSecond)) plain (ratio \(tlsRatio)), p50 \(tlsP50Milliseconds) ms, p99 \(tlsP99Milliseconds) ms (plain \(plainP99Milliseconds) ms), \(tlsErrors) errors"
    }
}
