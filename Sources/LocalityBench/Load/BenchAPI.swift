/// How the load generator reaches a system under test: through the bench's shared HTTP
/// front (`BenchHTTPFront`) or through a Locality node's HTTP gateway (`docs/gateway.md`).
/// Each request is a pure function of the API, the key and the delta, so its shape is
/// checked without a server.
public enum BenchAPI: String, Sendable, Codable, CaseIterable {
    /// The shared front: `POST /v1/sessions/{key}/moves` `{"delta":n}`, `GET /v1/sessions/{key}`.
    case benchFront = "bench-front"
    /// A node's gateway, `GameSession` as kind `session`:
    /// `POST /v1/actors/session/{key}/move` `{"delta":n}`, `POST /v1/actors/session/{key}/current` `{}`.
    case gateway

    /// One HTTP request of the workload.
    public struct Request: Sendable, Equatable {
        /// The HTTP methods the workload uses.
        public enum Method: String, Sendable {
            case GET, POST
        }

        public var method: Method
        public var path: String
        /// The JSON body, nil for none.
        public var body: String?

        public init(method: Method, path: String, body: String?) {
            self.method = method
            self.path = path
            self.body = body
        }
    }

    /// A move of `delta` points on `key` (a write: durable before the reply).
    public func move(key: String, delta: Int64) -> Request {
        switch self {
        case .benchFront: Request(method: .POST, path: "/v1/sessions/\(key)/moves", body: "{\"delta\":\(delta)}")
        case .gateway: Request(method: .POST, path: "\(Self.gatewayPrefix)\(key)/move", body: "{\"delta\":\(delta)}")
        }
    }

    /// A read of `key`'s current state.
    public func read(key: String) -> Request {
        switch self {
        case .benchFront: Request(method: .GET, path: "/v1/sessions/\(key)", body: nil)
        case .gateway: Request(method: .POST, path: "\(Self.gatewayPrefix)\(key)/current", body: "{}")
        }
    }

    /// `/v1/actors/session/`: the gateway path of the `GameSession` kind. Keys are
    /// `WorkloadSettings.keyName`s (`s0`, `s1`, …), which need no escaping.
    static let gatewayPrefix = "/v1/actors/\(GameSession.kind)/"
}
