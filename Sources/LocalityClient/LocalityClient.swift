import LocalityCore
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A client of a Locality cluster's HTTP gateways that sends each call straight to the
/// actor's owner, as a token-aware Cassandra driver does, and falls back to any node.
///
/// It follows the protocol in docs/gateway.md ("Calling the owner directly"): every 200
/// answer names the owner's gateway (`Locality-Owner`) and the ring (`Locality-Ring`);
/// the client remembers the owner per actor and calls it directly next time, and forgets
/// everything it learned under a ring that is no longer the one answers name. A call to a
/// node that is not the owner still succeeds (the node forwards it).
///
/// Failures: an owner that cannot be reached is forgotten and the call goes to the next
/// configured node (nothing was sent, so this is safe). A call whose connection is lost
/// after it was sent may have run: with an `idempotencyKey` it is retried on the next
/// node (at most `Settings.maxAttempts` attempts in all), else it fails with
/// `outcome_unknown`. Gateway errors arrive as `LocalityClientError`.
///
/// Bounds: at most `maxRememberedActors` owners remembered (past it, the memory is
/// cleared and learned again), at most `maxIdleConnectionsPerNode` idle keep-alive
/// connections per node; one request per connection at a time.
public final class LocalityClient: Sendable {
    /// Timeouts and bounds.
    public struct Settings: Sendable {
        /// The call deadline sent to the gateway (`X-Locality-Timeout-Ms`); the client
        /// waits one second more for the answer. Default 5 s.
        public var callTimeout: Duration = .seconds(5)
        /// Attempts of one call, the first included. Default 3.
        public var maxAttempts = 3
        /// Actors whose owner is remembered. Default 100,000.
        public var maxRememberedActors = 100_000
        /// Idle connections kept per node. Default 16.
        public var maxIdleConnectionsPerNode = 16

        /// The defaults above.
        public init() {}
    }

    /// Where this client's calls went (for tests, benchmarks and dashboards).
    public struct Statistics: Sendable, Equatable {
        /// Calls answered by the node they were sent to as the owner.
        public var answeredByOwner = 0
        /// Calls answered by another node (forwarded to the owner).
        public var answeredElsewhere = 0
        /// Attempts that moved to another node (owner unreachable, call retried).
        public var retries = 0
    }

    private struct Routing {
        var owners: [String: String] = [:]
        var ring: String?
        var nextNode = 0
        var statistics = Statistics()
    }

    private let nodes: [String]
    /// `Bearer <token>`, when the client has a token.
    private let authorization: String?
    private let settings: Settings
    private let group: any EventLoopGroup
    private let routing = Mutex(Routing())
    private let idle = Mutex([String: [HTTPClientConnection]]())

    /// A client of the gateways at `nodes` (`host:port`, at least one). With `bearerToken`,
    /// every call carries `Authorization: Bearer <token>` (a static token or a JWT, for a
    /// gateway with authentication on; docs/gateway.md, "Authentication"); a gateway that
    /// refuses it answers `LocalityClientError` 401 `unauthorized` or 403 `forbidden`.
    public init(
        nodes: [String], settings: Settings = Settings(), bearerToken: String? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws {
        guard !nodes.isEmpty, nodes.allSatisfy({ Self.split($0) != nil }) else {
            throw LocalityError(.badRequest, "LocalityClient needs at least one gateway as host:port, got \(nodes)")
        }
        if let bearerToken {
            // Visible ASCII only: a header value cannot carry spaces, control characters or line breaks here.
            guard !bearerToken.isEmpty, bearerToken.utf8.allSatisfy({ (0x21...0x7e).contains($0) }) else {
                throw LocalityError(.badRequest, "the bearer token must be non-empty visible ASCII")
            }
        }
        self.authorization = bearerToken.map { "Bearer \($0)" }
        self.nodes = nodes
        self.settings = settings
        self.group = group
    }

    /// Calls `method` of actor `kind`/`key` with JSON `arguments` (an object keyed by
    /// argument label, an array, or empty) and returns the JSON result.
    public func call(
        _ kind: String, _ key: String, _ method: String, arguments: [UInt8] = [], idempotencyKey: String? = nil
    ) async throws -> [UInt8] {
        let actor = "\(kind)/\(key)"
        let path = "/v1/actors/\(Self.segment(kind))/\(Self.segment(key))/\(Self.segment(method))"
        var headers = [("X-Locality-Timeout-Ms", String(settings.callTimeout.milliseconds))]
        if let idempotencyKey { headers.append(("Idempotency-Key", idempotencyKey)) }
        if let authorization { headers.append(("Authorization", authorization)) }
        var target = routing.withLock { $0.owners[actor] } ?? nextNode()
        var attempt = 1
        while true {
            let reply: HTTPReply
            do {
                reply = try await send(to: target, path: path, body: arguments, headers: headers)
            } catch let failure as SendFailure {
                forget(actor, owner: target)
                let safe = !failure.sent || idempotencyKey != nil
                guard safe, attempt < settings.maxAttempts else {
                    throw failure.sent
                        ? LocalityError(.outcomeUnknown, "connection to \(target) lost with \(actor).\(method) in flight: it may have run")
                        : LocalityError(.unavailable, "no gateway reachable for \(actor).\(method): \(failure.error)")
                }
                attempt += 1
                target = nextNode(after: target)
                routing.withLock { $0.statistics.retries += 1 }
                continue
            }
            learn(actor, from: reply, sentTo: target)
            guard reply.status == 200 else { throw LocalityClientError(reply) }
            return Array(reply.body.readableBytesView)
        }
    }

    /// Where calls went so far.
    public var statistics: Statistics { routing.withLock { $0.statistics } }

    /// The owner remembered for actor `kind`/`key`, if any.
    public func rememberedOwner(_ kind: String, _ key: String) -> String? {
        routing.withLock { $0.owners["\(kind)/\(key)"] }
    }

    /// Closes the idle connections.
    public func close() async {
        let connections = idle.withLock { idle in
            defer { idle.removeAll() }
            return idle.values.flatMap { $0 }
        }
        for connection in connections { await connection.close() }
    }

    // MARK: Routing

    private func nextNode(after current: String? = nil) -> String {
        routing.withLock { routing in
            var index = routing.nextNode % nodes.count
            if nodes[index] == current { index = (index + 1) % nodes.count }
            routing.nextNode = index + 1
            return nodes[index]
        }
    }

    private func learn(_ actor: String, from reply: HTTPReply, sentTo target: String) {
        let owner = reply.headers.first(name: "locality-owner")
        let ring = reply.headers.first(name: "locality-ring")
        routing.withLock { routing in
            if reply.status == 200 {
                if owner == target { routing.statistics.answeredByOwner += 1 } else { routing.statistics.answeredElsewhere += 1 }
            }
            guard let owner, let ring else { return }
            if routing.ring != ring || routing.owners.count >= settings.maxRememberedActors {
                routing.owners.removeAll(keepingCapacity: true)
                routing.ring = ring
            }
            routing.owners[actor] = owner
        }
    }

    private func forget(_ actor: String, owner: String) {
        routing.withLock { routing in
            if routing.owners[actor] == owner { routing.owners[actor] = nil }
        }
    }

    // MARK: Connections

    /// A failed attempt; `sent` tells whether the request may have reached the node.
    private struct SendFailure: Error {
        var sent: Bool
        var error: any Error
    }

    private func send(to node: String, path: String, body: [UInt8], headers: [(String, String)]) async throws -> HTTPReply {
        let connection: HTTPClientConnection
        do {
            connection = try await acquire(node)
        } catch {
            throw SendFailure(sent: false, error: error)
        }
        do {
            let reply = try await connection.send(
                .POST, path, json: ByteBuffer(bytes: body), headers: headers, timeout: settings.callTimeout + .seconds(1))
            // A connection the gateway closes after this answer (408, 413, …) is not reused.
            if reply.headers.first(name: "connection")?.lowercased() == "close" {
                await connection.close()
            } else {
                release(connection, to: node)
            }
            return reply
        } catch {
            await connection.close()
            // A pooled connection found closed before the request left is safe to retry.
            let unsent = (error as? LocalityError)?.message == HTTPReplyHandler.closedBeforeSending
            throw SendFailure(sent: !unsent, error: error)
        }
    }

    private func acquire(_ node: String) async throws -> HTTPClientConnection {
        while let pooled = idle.withLock({ $0[node]?.popLast() }) {
            if pooled.isActive { return pooled }
            await pooled.close()
        }
        guard let (host, port) = Self.split(node) else { throw LocalityError(.badRequest, "bad gateway address \(node)") }
        return try await HTTPClientConnection.connect(host: host, port: port, group: group)
    }

    private func release(_ connection: HTTPClientConnection, to node: String) {
        let kept = idle.withLock { idle in
            guard connection.isActive, idle[node, default: []].count < settings.maxIdleConnectionsPerNode else { return false }
            idle[node, default: []].append(connection)
            return true
        }
        if !kept { Task { await connection.close() } }
    }

    private static func split(_ address: String) -> (host: String, port: Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), port > 0 else { return nil }
        let host = String(address[..<colon])
        return host.isEmpty ? nil : (host, port)
    }

    /// One path segment, percent-encoded (unreserved characters stay).
    private static func segment(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                encoded += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return encoded
    }
}

/// A gateway's error answer: its HTTP status and the stable `code` and `message` of its
/// body `{"error":{"code":…,"message":…}}` (docs/gateway.md lists the codes).
public struct LocalityClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status (`503`, `504`, …).
    public var status: Int
    /// The stable error code (`storage_unavailable`, `outcome_unknown`, …); empty when the body had none.
    public var code: String
    /// The human-readable message.
    public var message: String

    init(_ reply: HTTPReply) {
        status = reply.status
        let text = String(decoding: reply.body.readableBytesView, as: UTF8.self)
        code = Self.field("code", in: text) ?? ""
        message = Self.field("message", in: text) ?? text
    }

    /// `HTTP <status> <code>: <message>`.
    public var description: String { "HTTP \(status) \(code): \(message)" }

    /// The string value of `"name":"…"` in the gateway's flat error body.
    private static func field(_ name: String, in text: String) -> String? {
        guard let start = text.firstRange(of: "\"\(name)\":\"") else { return nil }
        var value = ""
        var escaped = false
        for character in text[start.upperBound...] {
            if escaped {
                value.append(character == "n" ? "\n" : character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "\"" {
                return value
            } else {
                value.append(character)
            }
        }
        return nil
    }
}

extension Duration {
    /// Whole milliseconds, at least 1.
    fileprivate var milliseconds: Int64 { max(1, components.seconds * 1_000 + components.attoseconds / 1_000_000_000_000_000) }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
