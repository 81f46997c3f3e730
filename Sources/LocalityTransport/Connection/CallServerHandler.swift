import LocalityCore
import NIOCore
import Tracing

/// Asks an inbound connection to finish its running calls, refuse new ones, then close.
struct DrainRequest: Sendable {}

/// The inbound half of an accepted connection: runs each call in its own task, answers
/// with reply or error frames, cancels a task on a cancel frame, answers pings.
///
/// Back pressure (TCP): while `maxConcurrentHandlers` tasks run, or while the channel is
/// not writable (the caller is not reading our replies past the high water mark), the
/// handler holds back `read()`, so the socket is not read and the caller's kernel buffer
/// fills. Calls that were already in the bytes of the last read when the bound was hit
/// get `overloaded` error frames at once: nothing waits in an unbounded queue.
final class CallServerHandler: ChannelDuplexHandler {
    typealias InboundIn = Frame
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let handler: any TransportHandler
    private let maxConcurrent: Int
    private let metrics: TransportMetrics
    private var peer: NodeID?
    private var tasks: [UInt64: Task<Void, Never>] = [:]
    private var cancelled: Set<UInt64> = []
    private var readHeld = false
    private var flushScheduled = false
    private var draining = false
    private var context: ChannelHandlerContext?

    init(handler: any TransportHandler, maxConcurrent: Int, metrics: TransportMetrics) {
        self.handler = handler
        self.maxConcurrent = maxConcurrent
        self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? HandshakeCompleted {
            peer = completed.peer.node
        } else if event is DrainRequest {
            draining = true
            closeIfDrained(context: context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var frame = unwrapInboundIn(data)
        metrics.bytesIn.increment(by: frame.wireSize)
        guard let peer else { return }
        switch frame.kind {
        case .call:
            if draining {
                sendError(LocalityError(.unavailable, "node is shutting down"), id: frame.requestID, context: context)
            } else if tasks.count >= maxConcurrent || tasks[frame.requestID] != nil {
                sendError(LocalityError(.overloaded, "\(tasks.count) calls running on this connection"), id: frame.requestID, context: context)
            } else if let header = CallHeader.read(from: &frame.payload) {
                start(frame, header: header, peer: peer, context: context)
            } else {
                sendError(LocalityError(.badRequest, "malformed call header"), id: frame.requestID, context: context)
            }
        case .cancel:
            if let task = tasks[frame.requestID] {
                cancelled.insert(frame.requestID)
                task.cancel()
            }
        case .ping:
            write(Frame(kind: .pong, requestID: frame.requestID, payload: ByteBuffer()), context: context)
        case .handshake, .reply, .error, .pong:
            FrameErrorResponder.sendErrorAndClose(LocalityError(.badRequest, "\(frame.kind) frame on an inbound connection"), context: context)
        }
    }

    func read(context: ChannelHandlerContext) {
        if tasks.count >= maxConcurrent || !context.channel.isWritable {
            readHeld = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        resumeReadingIfPossible(context: context)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        for task in tasks.values { task.cancel() }
        context.fireChannelInactive()
    }

    private func start(_ frame: Frame, header: CallHeader, peer: NodeID, context: ChannelHandlerContext) {
        let deadline = header.deadlineBudgetMilliseconds.map { NIODeadline.now() + .milliseconds(Int64($0)) }
        let request = TransportRequest(
            requestID: frame.requestID, peer: peer, payload: frame.payload, deadline: deadline, traceparent: header.traceparent
        )
        let handler = self.handler
        let loopSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let id = frame.requestID
        let task = Task {
            let result = await callOutcome(handler, request)
            eventLoop.execute { loopSelf.value.finish(id, result) }
        }
        tasks[id] = task
    }

    fileprivate static func run(_ handler: any TransportHandler, _ request: TransportRequest) async throws -> ByteBuffer {
        guard let traceparent = request.traceparent else { return try await handler.handle(request) }
        var context = ServiceContext.current ?? .topLevel
        InstrumentationSystem.instrument.extract(["traceparent": traceparent], into: &context, using: TraceparentExtractor())
        return try await ServiceContext.withValue(context) { try await handler.handle(request) }
    }

    private func finish(_ id: UInt64, _ result: Result<ByteBuffer, LocalityError>) {
        guard tasks.removeValue(forKey: id) != nil, let context else { return }
        if cancelled.remove(id) == nil {
            switch result {
            case .success(let reply):
                write(Frame(kind: .reply, requestID: id, payload: reply), context: context)
            case .failure(let error):
                sendError(error, id: id, context: context)
            }
        }
        resumeReadingIfPossible(context: context)
        closeIfDrained(context: context)
    }

    private func sendError(_ error: LocalityError, id: UInt64, context: ChannelHandlerContext) {
        write(Frame.error(LocalityErrorPayload(error), requestID: id, allocator: context.channel.allocator), context: context)
    }

    /// Writes now, flushes once per event-loop turn: replies finished together leave in
    /// one syscall.
    private func write(_ frame: Frame, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: frame.wireSize)
        frame.write(to: &buffer)
        metrics.bytesOut.increment(by: buffer.readableBytes)
        context.write(wrapOutboundOut(buffer), promise: nil)
        guard !flushScheduled else { return }
        flushScheduled = true
        let loopSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = loopSelf.value
            handler.flushScheduled = false
            handler.context?.flush()
        }
    }

    private func resumeReadingIfPossible(context: ChannelHandlerContext) {
        guard readHeld, tasks.count < maxConcurrent, context.channel.isWritable else { return }
        readHeld = false
        context.read()
    }

    private func closeIfDrained(context: ChannelHandlerContext) {
        guard draining, tasks.isEmpty else { return }
        context.flush()
        context.close(promise: nil)
    }
}

/// Reads `traceparent` out of the carrier dictionary handed to the instrument.
struct TraceparentExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}

/// Writes trace headers into a carrier dictionary.
struct TraceparentInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}

/// Runs one call and folds every outcome into a `LocalityError`-typed result.
private func callOutcome(_ handler: any TransportHandler, _ request: TransportRequest) async -> Result<ByteBuffer, LocalityError> {
    do {
        return .success(try await CallServerHandler.run(handler, request))
    } catch let error as LocalityError {
        return .failure(error)
    } catch is CancellationError {
        return .failure(LocalityError(.cancelled, "call cancelled"))
    } catch {
        return .failure(LocalityError(.internal, "handler failed: \(error)"))
    }
}
