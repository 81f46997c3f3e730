import CoreMetrics
import LocalityCore
import Synchronization

/// The `locality_transport_*` metrics, created once per transport so the hot path only
/// records, plus the counters tests read back (`TransportCounters`).
final class TransportMetrics: Sendable {
    let inFlight: Meter
    let queuedBytes: Gauge
    let bytesIn: Counter
    let bytesOut: Counter
    let callDuration: Timer
    let handshakesRefused: Counter
    let connectionsRefused: Counter
    let framesRejected: Counter
    let counters = Mutex(TransportCounters())
    private let errors: [LocalityError.Code: Counter]

    init(node: String) {
        let labels = [("node", node)]
        inFlight = Meter(label: "locality_transport_in_flight", dimensions: labels)
        queuedBytes = Gauge(label: "locality_transport_queued_bytes", dimensions: labels)
        bytesIn = Counter(label: "locality_transport_bytes_in", dimensions: labels)
        bytesOut = Counter(label: "locality_transport_bytes_out", dimensions: labels)
        callDuration = Timer(label: "locality_transport_call_duration", dimensions: labels)
        handshakesRefused = Counter(label: "locality_transport_handshakes_refused", dimensions: labels)
        connectionsRefused = Counter(label: "locality_transport_connections_refused", dimensions: labels)
        framesRejected = Counter(label: "locality_transport_frames_rejected", dimensions: labels)
        var errors: [LocalityError.Code: Counter] = [:]
        for code in LocalityError.Code.allCases {
            errors[code] = Counter(label: "locality_transport_errors", dimensions: labels + [("code", code.rawValue)])
        }
        self.errors = errors
    }

    func recordError(_ code: LocalityError.Code) {
        errors[code]?.increment()
        counters.withLock { $0.errors[code, default: 0] += 1 }
    }

    func recordHandshakeRefused() {
        handshakesRefused.increment()
        counters.withLock { $0.handshakesRefused += 1 }
    }

    func recordFrameRejected() {
        framesRejected.increment()
        counters.withLock { $0.framesRejected += 1 }
    }

    func recordConnectionRefused() {
        connectionsRefused.increment()
        counters.withLock { $0.connectionsRefused += 1 }
    }

    func recordQueuedBytes(_ bytes: Int) {
        queuedBytes.record(bytes)
        counters.withLock { $0.maxQueuedBytes = max($0.maxQueuedBytes, bytes) }
    }
}

/// Counters a transport keeps for inspection (tests, `status`).
public struct TransportCounters: Sendable, Equatable {
    /// Handshakes this node refused or that failed the other side's proof.
    public var handshakesRefused = 0
    /// Inbound connections closed at once because `maxConnections` was reached.
    public var connectionsRefused = 0
    /// Inbound frames that were malformed or oversized (the connection was closed).
    public var framesRejected = 0
    /// Highest per-peer queued byte count seen on any outbound connection.
    public var maxQueuedBytes = 0
    /// Errors returned to local callers, by code.
    public var errors: [LocalityError.Code: Int] = [:]
}
