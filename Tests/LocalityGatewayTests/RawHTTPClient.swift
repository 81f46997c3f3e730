import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// An HTTP/1.1 answer as read off the socket.
struct RawHTTPResponse: Sendable {
    var status: Int
    /// Header names lower-cased.
    var headers: [String: String]
    var body: String

    /// The `code` of a `{"error":{"code":…}}` body, if any.
    var errorCode: String? {
        guard let range = body.range(of: "\"code\":\"") else { return nil }
        let rest = body[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }
}

/// A minimal HTTP/1.1 client on a plain NIO socket, so tests control the bytes (streamed
/// bodies, slow clients) and read the real server's answer. Every call is bounded in time.
enum RawHTTPClient {
    enum Failure: Error { case timedOut, closedBeforeAnswer(String) }

    /// Sends `parts` in order on a new connection to 127.0.0.1:`port` and reads one answer.
    /// With `tls`, the connection speaks TLS first (to a gateway with `GatewaySettings.tls`).
    static func exchange(port: Int, parts: [[UInt8]], timeout: Duration = .seconds(20), tls: NIOSSLContext? = nil) async throws -> RawHTTPResponse {
        try await withThrowingTaskGroup(of: RawHTTPResponse?.self) { group in
            group.addTask {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connect(host: "127.0.0.1", port: port) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            if let tls { try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: nil)) }
                            return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                        }
                    }
                return try await channel.executeThenClose { inbound, outbound in
                    for part in parts { try await outbound.write(ByteBuffer(bytes: part)) }
                    var received: [UInt8] = []
                    for try await chunk in inbound {
                        received += Array(buffer: chunk)
                        if let response = parse(received) { return response }
                    }
                    throw Failure.closedBeforeAnswer(String(decoding: received, as: UTF8.self))
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let response = first else { throw Failure.timedOut }
            return response
        }
    }

    /// A request with a `Content-Length` body.
    static func request(
        _ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:], port: Int, tls: NIOSSLContext? = nil,
        timeout: Duration = .seconds(20)
    ) async throws -> RawHTTPResponse {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
        head += "\r\n"
        return try await exchange(port: port, parts: [Array(head.utf8) + Array((body ?? "").utf8)], timeout: timeout, tls: tls)
    }

    static func post(_ path: String, _ body: String, headers: [String: String] = [:], port: Int) async throws -> RawHTTPResponse {
        try await request("POST", path, body: body, headers: headers, port: port)
    }

    static func get(_ path: String, port: Int) async throws -> RawHTTPResponse {
        try await request("GET", path, port: port)
    }

    /// A complete answer at the start of `bytes` (head plus `Content-Length` body), or nil.
    static func parse(_ bytes: [UInt8]) -> RawHTTPResponse? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let headEnd = (0...max(0, bytes.count - 4)).first(where: { bytes.count >= $0 + 4 && Array(bytes[$0..<$0 + 4]) == separator }) else {
            return nil
        }
        let lines = String(decoding: bytes[..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        guard let statusLine = lines.first, let status = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
            return nil
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = headers["content-length"].flatMap { Int($0) } ?? 0
        let bodyStart = headEnd + 4
        guard bytes.count >= bodyStart + length else { return nil }
        return RawHTTPResponse(status: status, headers: headers, body: String(decoding: bytes[bodyStart..<bodyStart + length], as: UTF8.self))
    }
}
