import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `locality bench bare-http` (hidden): the baseline of `bench gateway`, a bare Hummingbird 2
/// application with the gateway's actor route and nothing behind it. `POST
/// /v1/actors/:type/:id/:method` collects the body (at most 1 MiB, else 413), checks that
/// it looks like a JSON object or array (first and last non-blank bytes; empty is allowed,
/// like the gateway) and answers `{"ok":1}`; `GET /readyz` answers `{"ready":true}`.
/// Runs until SIGTERM or SIGINT (or standard input closes, with `--exit-on-stdin-eof`),
/// like `locality node`.
struct BenchBareHTTPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bare-http",
        abstract: "Serve a bare Hummingbird route shaped like the gateway's (used by `bench gateway`).",
        shouldDisplay: false
    )

    @Option(help: "Port to listen on, on --host.")
    var port: Int

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Flag(help: "Exit when standard input closes.")
    var exitOnStdinEOF = false

    func run() async throws {
        if exitOnStdinEOF { StdinWatch.leaveOnEOF() }
        var logger = Logger(label: "locality.bench.bare-http")
        logger.logLevel = .warning
        let app = Application(
            router: Self.makeRouter(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "locality-bare"),
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    static let maxBodyBytes = 1 << 20

    static func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        let ok = ByteBuffer(string: "{\"ok\":1}")
        let headers: HTTPFields = [.contentType: "application/json"]
        router.post("/v1/actors/:type/:id/:method") { request, _ -> Response in
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: maxBodyBytes)
            } catch {
                return Response(status: .contentTooLarge, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"error\":\"too large\"}")))
            }
            guard looksLikeJSON(body) else {
                return Response(status: .badRequest, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"error\":\"not json\"}")))
            }
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ok))
        }
        router.get("/readyz") { _, _ -> Response in
            Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"ready\":true}")))
        }
        return router
    }

    /// Empty, or first and last non-blank bytes `{…}` or `[…]`: the cheapest check that
    /// still reads the whole body.
    static func looksLikeJSON(_ body: ByteBuffer) -> Bool {
        body.withUnsafeReadableBytes { bytes in
            func blank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }
            guard let first = bytes.firstIndex(where: { !blank($0) }) else { return true }
            guard let last = bytes.lastIndex(where: { !blank($0) }) else { return true }
            switch (bytes[first], bytes[last]) {
            case (UInt8(ascii: "{"), UInt8(ascii: "}")), (UInt8(ascii: "["), UInt8(ascii: "]")): return true
            default: return false
            }
        }
    }
}
