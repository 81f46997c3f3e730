/// One setup's figures in the `bench gateway` report.
struct GatewaySetupResult: Encodable, Sendable {
    /// 2xx answers per second (summed over the wrk processes of `cluster3_direct`).
    var rps: Double
    /// Latency percentiles; for `cluster3_direct` the worst of its wrk processes (an upper
    /// bound of the merged percentile).
    var p50Ms: Double
    var p99Ms: Double
    var p999Ms: Double
    var maxMs: Double
    /// Socket errors, timeouts and non-2xx answers.
    var errors: Int
    var errorsByKind: [String: Int]
    /// Answers received by wrk (non-2xx included).
    var requests: Int
    var durationSeconds: Double
    var call: String
    var store: String
    var nodes: Int
    /// CPU seconds the target process(es) used during the measured seconds.
    var serverCPUSeconds: Double
    /// 2xx answers per CPU-second of the target(s): less sensitive than `rps` to other
    /// processes taking turns on the target's CPU.
    var requestsPerCPUSecond: Double?
    /// Actor-route answers by status on the node(s) wrk called (their `/metrics`, whole run
    /// incl. warm-up and, for `cluster3_direct`, the owner lookup).
    var gatewayStatuses: [String: Int]?
    /// `cluster3_direct`: each node's keys, wrk connections and figures.
    var perNode: [DirectNodeFigures]?
    /// How each target process ended.
    var exits: [String]

    enum CodingKeys: String, CodingKey {
        case rps, errors, requests, call, store, nodes, exits
        case p50Ms = "p50_ms"
        case p99Ms = "p99_ms"
        case p999Ms = "p999_ms"
        case maxMs = "max_ms"
        case errorsByKind = "errors_by_kind"
        case durationSeconds = "duration_s"
        case serverCPUSeconds = "server_cpu_s"
        case requestsPerCPUSecond = "requests_per_cpu_s"
        case gatewayStatuses = "gateway_statuses"
        case perNode = "per_node"
    }

    static func milliseconds(_ microseconds: Double) -> Double { (microseconds / 10).rounded() / 100 }
}

/// One node's share of the `cluster3_direct` load: the keys it owns and the wrk that
/// called it with them.
struct DirectNodeFigures: Encodable, Sendable {
    var node: String
    /// Its HTTP gateway, as `Locality-Owner` named it.
    var gateway: String
    var keys: Int
    var connections: Int
    var rps: Double
    var p50Ms: Double
    var p99Ms: Double
    var p999Ms: Double
    var errors: Int

    enum CodingKeys: String, CodingKey {
        case node, gateway, keys, connections, rps, errors
        case p50Ms = "p50_ms"
        case p99Ms = "p99_ms"
        case p999Ms = "p999_ms"
    }
}

/// The forwarding figures of a three-node setup.
struct ClusterFigures: Sendable {
    /// Forwards / actor calls during the measurement, from the metrics of the node(s) wrk
    /// called (node 1 for `cluster3_read`, all three for `cluster3_direct`).
    var measuredShare: Double?
    /// `cluster3_read`: share of the keys whose owner on node 1's ring is another node
    /// (`/v1/cluster/lookup`).
    var ringShare: Double?

    /// The measured share, else the ring's.
    var share: Double? { measuredShare ?? ringShare }
}
