import Metrics
import Synchronization

/// The gateway's swift-metrics instruments (`locality_gateway_*`), exported on `/metrics`
/// once `LocalityMetrics.bootstrap()` installed the Prometheus factory.
///
/// - `locality_gateway_requests_total{route,status}`: answered requests.
/// - `locality_gateway_request_duration_seconds{route}`: latency (a histogram in Prometheus).
/// - `locality_gateway_in_flight`, `locality_gateway_queued`: actor calls running / waiting.
/// - `locality_gateway_rejected_total{reason}`: refusals by `queue_full`, `queue_timeout`,
///   `rate_limited`, `payload_too_large`, `connection_limit`, `body_timeout`.
/// - `locality_gateway_connections`: open connections.
/// - `locality_gateway_auth_rejected_total{reason}`: requests refused by authentication
///   (`missing`, `malformed`, `bad_signature`, `expired`, `invalid_claims`,
///   `unknown_token`: 401; `kind_not_allowed`, `admin_required`: 403).
/// - `locality_gateway_auth_accepted_total{token}`: requests accepted, by static token name
///   (`jwt` for all JWTs).
struct GatewayMetrics: Sendable {
    /// Why a request or connection was refused.
    enum Rejection: String, CaseIterable, Sendable {
        case queueFull = "queue_full"
        case queueTimeout = "queue_timeout"
        case rateLimited = "rate_limited"
        case payloadTooLarge = "payload_too_large"
        case connectionLimit = "connection_limit"
        case bodyTimeout = "body_timeout"
    }

    private let factory: any MetricsFactory
    private let rejected: [Rejection: Counter]
    private let authRejected: [AuthRejection: Counter]
    /// One latency timer per route, made once.
    private let durations: [GatewayRoute: Metrics.Timer]
    /// Request counters by route and status, made on first use (statuses are the few the
    /// gateway answers, so this stays small).
    private let answeredCounters = AnsweredCounters()
    let inFlight: Gauge
    let queued: Gauge
    let connections: Gauge

    init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        var rejected: [Rejection: Counter] = [:]
        for reason in Rejection.allCases {
            rejected[reason] = Counter(label: "locality_gateway_rejected_total", dimensions: [("reason", reason.rawValue)], factory: factory)
        }
        self.rejected = rejected
        var authRejected: [AuthRejection: Counter] = [:]
        for reason in AuthRejection.allCases {
            authRejected[reason] = Counter(label: "locality_gateway_auth_rejected_total", dimensions: [("reason", reason.rawValue)], factory: factory)
        }
        self.authRejected = authRejected
        var durations: [GatewayRoute: Metrics.Timer] = [:]
        for route in GatewayRoute.allCases {
            durations[route] = Metrics.Timer(
                label: "locality_gateway_request_duration_seconds", dimensions: [("route", route.rawValue)], preferredDisplayUnit: .seconds,
                factory: factory)
        }
        self.durations = durations
        inFlight = Gauge(label: "locality_gateway_in_flight", factory: factory)
        queued = Gauge(label: "locality_gateway_queued", factory: factory)
        connections = Gauge(label: "locality_gateway_connections", factory: factory)
    }

    func answered(route: GatewayRoute, status: Int, nanoseconds: Int64) {
        answeredCounters.counter(route: route, status: status, factory: factory).increment()
        durations[route]?.recordNanoseconds(nanoseconds)
    }

    func rejected(_ reason: Rejection) {
        rejected[reason]?.increment()
    }

    func authRejected(_ reason: AuthRejection) {
        authRejected[reason]?.increment()
    }
}

/// `locality_gateway_requests_total{route,status}` counters, each made once: a lookup per
/// request instead of a registry lookup with new label arrays.
final class AnsweredCounters: Sendable {
    private struct Key: Hashable {
        var route: GatewayRoute
        var status: Int
    }

    private let counters = Mutex<[Key: Counter]>([:])

    func counter(route: GatewayRoute, status: Int, factory: any MetricsFactory) -> Counter {
        let key = Key(route: route, status: status)
        if let counter = counters.withLock({ $0[key] }) { return counter }
        let counter = Counter(
            label: "locality_gateway_requests_total", dimensions: [("route", route.rawValue), ("status", String(status))], factory: factory)
        return counters.withLock { counters in
            if let existing = counters[key] { return existing }
            counters[key] = counter
            return counter
        }
    }
}

/// Route label of a request (a fixed set, so metric cardinality stays bounded).
enum GatewayRoute: String, Sendable, CaseIterable {
    case actor, members, ring, lookup, activations, stats, metrics, healthz, readyz, dashboard, openapi, other

    init(path: String) {
        switch path {
        case _ where path.hasPrefix("/v1/actors/"): self = .actor
        case "/v1/cluster/members": self = .members
        case "/v1/cluster/ring": self = .ring
        case "/v1/cluster/lookup": self = .lookup
        case "/v1/cluster/activations": self = .activations
        case "/v1/stats": self = .stats
        case "/metrics": self = .metrics
        case "/healthz": self = .healthz
        case "/readyz": self = .readyz
        case "/", "/index.html": self = .dashboard
        case "/openapi.yaml": self = .openapi
        default: self = .other
        }
    }
}
