import LocalityCore
import NIOCore
import Synchronization

/// One authenticated, multiplexed connection to a peer: many calls share it, told apart
/// by request id (as Orleans multiplexes all calls between two silos over one socket).
///
/// Bound: at most `maxInFlightPerConnection` calls await a reply; one more is refused
/// with `overloaded` at once. Deadlines are enforced by a sweep on the event loop every
/// `deadlineSweepInterval`; an expired or cancelled call is answered locally and a
/// cancel frame tells the server to cancel its task.
public final class OutboundConnection: Sendable {
    private struct Pending {
        var continuation: CheckedContinuation<ByteBuffer, any Error>
        var deadline: NIODeadline
        var started: NIODeadline
    }

    private struct State {
        var pending: [UInt64: Pending] = [:]
        var nextID: UInt64 = 0
        var closedWith: LocalityError?
        var draining = false
    }

    /// The authenticated peer.
    public let peer: HandshakeHello
    let channel: any Channel
    private let outbox: Outbox
    private let state = Mutex(State())
    private let maxInFlight: Int
    private let metrics: TransportMetrics

    init(peer: HandshakeHello, channel: any Channel, settings: TransportSettings, metrics: TransportMetrics) {
        self.peer = peer
        self.channel = channel
        self.maxInFlight = settings.maxInFlightPerConnection
        self.metrics = metrics
        self.outbox = Outbox(
            channel: channel, limit: settings.maxQueuedBytesPerPeer, maxFrameSize: settings.maxFrameSize, metrics: metrics
        )
    }

    /// Calls awaiting a reply.
    public var inFlight: Int { state.withLock { $0.pending.count } }

    /// Bytes queued for this peer and not yet written to the socket.
    public var queuedBytes: Int { outbox.queuedBytes }

    /// Whether the connection can take new calls.
    public var isOpen: Bool { state.withLock { $0.closedWith == nil && !$0.draining } }

    /// Sends a call and waits for its reply, its error, its deadline or cancellation.
    func call(_ body: ByteBuffer, header: CallHeader, deadline: NIODeadline) async throws -> ByteBuffer {
        try await roundTrip(kind: .call, header: header, body: body, deadline: deadline)
    }

    /// Sends a ping and waits for the pong.
    func ping(deadline: NIODeadline) async throws {
        _ = try await roundTrip(kind: .ping, header: nil, body: ByteBuffer(), deadline: deadline)
    }

    private func roundTrip(kind: FrameKind, header: CallHeader?, body: ByteBuffer, deadline: NIODeadline) async throws -> ByteBuffer {
        let id = state.withLock { state -> UInt64 in
            state.nextID &+= 1
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ByteBuffer, any Error>) in
                let now = NIODeadline.now()
                let refusal = state.withLock { state -> LocalityError? in
                    if let closed = state.closedWith { return closed }
                    if state.draining { return LocalityError(.unavailable, "connection to \(peer.node) is draining") }
                    if state.pending.count >= maxInFlight {
                        return LocalityError(.overloaded, "\(state.pending.count) calls in flight to \(peer.node); limit \(maxInFlight)")
                    }
                    state.pending[id] = Pending(continuation: continuation, deadline: deadline, started: now)
                    return nil
                }
                if let refusal {
                    metrics.recordError(refusal.code)
                    continuation.resume(throwing: refusal)
                    return
                }
                metrics.inFlight.increment(by: 1)
                do throws(LocalityError) {
                    try outbox.enqueue(kind: kind, requestID: id, header: header, body: body, force: kind == .ping)
                } catch {
                    complete(id, with: .failure(error), notifyServer: false)
                    return
                }
                if Task.isCancelled {
                    complete(id, with: .failure(LocalityError(.cancelled, "call cancelled")), notifyServer: true)
                }
            }
        } onCancel: {
            self.complete(id, with: .failure(LocalityError(.cancelled, "call cancelled")), notifyServer: true)
        }
    }

    /// Resolves call `id` (reply, error, deadline, cancel); a no-op for unknown ids (late
    /// replies to calls already answered locally).
    func complete(_ id: UInt64, with result: Result<ByteBuffer, LocalityError>, notifyServer: Bool = false) {
        guard let pending = state.withLock({ $0.pending.removeValue(forKey: id) }) else { return }
        metrics.inFlight.decrement(by: 1)
        metrics.callDuration.recordNanoseconds(NIODeadline.now().uptimeNanoseconds &- pending.started.uptimeNanoseconds)
        switch result {
        case .success(let reply):
            pending.continuation.resume(returning: reply)
        case .failure(let error):
            metrics.recordError(error.code)
            pending.continuation.resume(throwing: error)
        }
        if notifyServer {
            try? outbox.enqueue(kind: .cancel, requestID: id, header: nil, body: ByteBuffer(), force: true)
        }
    }

    /// Answers every call whose deadline passed with `deadline_exceeded` (event loop).
    func sweepDeadlines(now: NIODeadline) {
        let expired = state.withLock { state in state.pending.compactMap { $0.value.deadline <= now ? $0.key : nil } }
        for id in expired {
            complete(id, with: .failure(LocalityError(.deadlineExceeded, "no reply from \(peer.node) before the deadline")), notifyServer: true)
        }
    }

    /// Fails every pending call and refuses new ones (the connection is gone).
    func fail(_ error: LocalityError) {
        let pending = state.withLock { state -> [UInt64: Pending] in
            if state.closedWith == nil { state.closedWith = error }
            let pending = state.pending
            state.pending = [:]
            return pending
        }
        outbox.close()
        // A call in flight may have reached the peer and run there: its outcome is unknown,
        // and a router must not resend it on its own (the request may not be idempotent).
        let inFlightError = error.code == .unavailable
            ? LocalityError(.outcomeUnknown, "the call was in flight when its connection failed: \(error.message)")
            : error
        for (_, call) in pending {
            metrics.inFlight.decrement(by: 1)
            metrics.recordError(inFlightError.code)
            call.continuation.resume(throwing: inFlightError)
        }
    }

    /// Stops new calls and waits (up to `timeout`) until the pending ones are answered.
    func drain(timeout: Duration) async {
        state.withLock { $0.draining = true }
        let limit = NIODeadline.now() + timeout.timeAmount
        while inFlight > 0, NIODeadline.now() < limit {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
