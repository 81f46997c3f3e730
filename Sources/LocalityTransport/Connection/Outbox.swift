import LocalityCore
import NIOCore
import Synchronization

/// The bounded send queue of one outbound connection.
///
/// Callers on any thread encode their frame into a shared buffer; the first one to find
/// no drain pending schedules one on the event loop, which writes and flushes everything
/// gathered so far in one syscall (batching under load, one write per call when idle).
///
/// Bound: `queuedBytes` counts bytes accepted but not yet written to the socket (the
/// buffer here plus NIO's pending writes, released when the write completes). A frame
/// that would cross `limit` is refused with `overloaded` at once; control frames
/// (cancel, ping) may pass the bound by their few bytes (`force`), so a caller can always
/// give up. A peer that stops reading therefore costs at most `limit` bytes here.
final class Outbox: Sendable {
    private struct State {
        var buffer: ByteBuffer
        var bufferedBytes = 0
        var queuedBytes = 0
        var drainScheduled = false
        var closed = false
    }

    private let state: Mutex<State>
    private let channel: any Channel
    private let limit: Int
    private let maxFrameSize: Int
    private let metrics: TransportMetrics

    init(channel: any Channel, limit: Int, maxFrameSize: Int, metrics: TransportMetrics) {
        self.channel = channel
        self.limit = limit
        self.maxFrameSize = maxFrameSize
        self.metrics = metrics
        self.state = Mutex(State(buffer: channel.allocator.buffer(capacity: 4096)))
    }

    /// Bytes accepted and not yet written to the socket.
    var queuedBytes: Int { state.withLock { $0.queuedBytes } }

    /// Queues one frame whose payload is `header` (when given) followed by `body`.
    func enqueue(kind: FrameKind, requestID: UInt64, header: CallHeader?, body: ByteBuffer, force: Bool = false) throws(LocalityError) {
        let payloadSize = (header?.wireSize ?? 0) + body.readableBytes
        let frameSize = Frame.headerSize + payloadSize
        guard frameSize <= maxFrameSize else {
            throw LocalityError(.payloadTooLarge, "frame of \(frameSize) bytes exceeds the \(maxFrameSize)-byte limit")
        }
        let outcome: LocalityError?
        var scheduleDrain = false
        var queuedAfter = 0
        outcome = state.withLock { state -> LocalityError? in
            if state.closed { return LocalityError(.unavailable, "connection closed") }
            if !force, state.queuedBytes + frameSize > limit {
                return LocalityError(.overloaded, "peer send queue holds \(state.queuedBytes) bytes; limit \(limit)")
            }
            state.queuedBytes += frameSize
            state.bufferedBytes += frameSize
            state.buffer.writeInteger(UInt32(Frame.fixedBodySize + payloadSize))
            state.buffer.writeInteger(kind.rawValue)
            state.buffer.writeInteger(requestID)
            header?.write(to: &state.buffer)
            var body = body
            state.buffer.writeBuffer(&body)
            if !state.drainScheduled {
                state.drainScheduled = true
                scheduleDrain = true
            }
            queuedAfter = state.queuedBytes
            return nil
        }
        if let outcome { throw outcome }
        if queuedAfter > limit / 2 { metrics.recordQueuedBytes(queuedAfter) }
        if scheduleDrain {
            channel.eventLoop.execute { self.drain() }
        }
    }

    /// Refuses further frames; what is queued is still written.
    func close() {
        state.withLock { $0.closed = true }
    }

    private func drain() {
        let (batch, bytes) = state.withLock { state -> (ByteBuffer, Int) in
            state.drainScheduled = false
            let batch = state.buffer
            let bytes = state.bufferedBytes
            state.buffer = channel.allocator.buffer(capacity: max(4096, min(bytes, 1 << 20)))
            state.bufferedBytes = 0
            return (batch, bytes)
        }
        guard bytes > 0 else { return }
        metrics.bytesOut.increment(by: bytes)
        let promise = channel.eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { _ in
            let queued = self.state.withLock { state -> Int in
                state.queuedBytes -= bytes
                return state.queuedBytes
            }
            self.metrics.queuedBytes.record(queued)
        }
        channel.writeAndFlush(batch, promise: promise)
    }
}
