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
    let tlsRefused: Counter
    let tlsReloaded: Counter
    let tlsReloadFailed: Counter
    private let tlsLogGate = Mutex(TLSLogGate())
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
        tlsRefused = Counter(label: "locality_transport_tls_refused_total", dimensions: labels)
        tlsReloaded = Counter(label: "locality_transport_tls_reloads_total", dimensions: labels + [("result", "ok")])
        tlsReloadFailed = Counter(label: "locality_transport_tls_reloads_total", dimensions: labels + [("result", "failed")])
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

    /// Counts a refused TLS handshake; returns the refusals since the last log line when
    /// a line is due (at most one a second), nil otherwise.
    func recordTLSRefused() -> Int? {
        tlsRefused.increment()
        counters.withLock { $0.tlsRefused += 1 }
        return tlsLogGate.withLock { $0.pass(now: ContinuousClock.now) }
    }

    func recordTLSReload(succeeded: Bool) {
        (succeeded ? tlsReloaded : tlsReloadFailed).increment()
        counters.withLock {
            if succeeded { $0.tlsReloads += 1 } else { $0.tlsReloadFailures += 1 }
        }
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
    /// TLS handshakes that failed: no, expired or foreign certificates, or not TLS at all.
    public var tlsRefused = 0
    /// Times a changed certificate and key were loaded without a restart.
    public var tlsReloads = 0
    /// Reloads that failed (the pair in use stayed).
    public var tlsReloadFailures = 0
    /// Highest per-peer queued byte count seen on any outbound connection.
    public var maxQueuedBytes = 0
    /// Errors returned to local callers, by code.
    public var errors: [LocalityError.Code: Int] = [:]
}

/// Lets one log line a second through, counting what it held back.
struct TLSLogGate {
    private var lastLine: ContinuousClock.Instant?
    private var held = 0

    mutating func pass(now: ContinuousClock.Instant) -> Int? {
        held += 1
        if let lastLine, now - lastLine < .seconds(1) { return nil }
        lastLine = now
        defer { held = 0 }
        return held
    }
}
