import NIOConcurrencyHelpers
import NIOCore

/// What to do with a TCP connection after one of its frames.
enum FrameOutcome: Equatable, Sendable {
    /// Keep reading.
    case proceed
    /// Write this frame back, keep reading.
    case reply([UInt8])
    /// The frame was dropped (bad tag, replay, malformed): close the connection, so an
    /// unauthenticated peer holds no slot.
    case close
}

/// The accepted TCP connections of a gossip node, bounded by `capacity`: admission,
/// release, and closing them all at shutdown. Shared by the event loops of the accepted
/// channels, so it locks.
final class InboundConnections: Sendable {
    private struct State {
        var open: [ObjectIdentifier: any Channel] = [:]
        var stopping = false
    }

    let capacity: Int
    private let state = NIOLockedValueBox(State())

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Admits `channel` unless the node is stopping or `capacity` connections are open.
    func admit(_ channel: any Channel) -> Bool {
        state.withLockedValue { state in
            guard !state.stopping, state.open.count < capacity else { return false }
            state.open[ObjectIdentifier(channel)] = channel
            return true
        }
    }

    func release(_ channel: any Channel) {
        _ = state.withLockedValue { $0.open.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    var count: Int { state.withLockedValue { $0.open.count } }

    /// Refuses new connections from now on and closes the open ones.
    func closeAll() {
        let open = state.withLockedValue { state in
            state.stopping = true
            return Array(state.open.values)
        }
        for channel in open { channel.close(promise: nil) }
    }
}

/// The last handler of an accepted gossip TCP connection: hands each frame to the node
/// (`serve`, an actor hop) in arrival order, writes back a reply when there is one, and
/// closes the connection when the node says so.
///
/// A plain `ChannelHandler`, not `NIOAsyncChannel`: an async wrapper created for an accepted
/// connection that nobody consumes (the listener closing meanwhile) traps in its writer's
/// deinit (apple/swift-nio#2813); nothing here needs consuming.
///
/// Bound: at most `maxQueuedFrames` frames of one connection wait for the node; a peer that
/// pipelines more is cut off (`onOverload` counts it).
final class StreamServerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let connections: InboundConnections
    private let serve: @Sendable ([UInt8]) async -> FrameOutcome
    private let onOverload: @Sendable () -> Void
    /// Frames of one connection waiting for the node, at most.
    static let maxQueuedFrames = 4
    private var admitted = false
    private var queued = 0
    private var tail: EventLoopFuture<Void>?

    init(
        connections: InboundConnections,
        serve: @escaping @Sendable ([UInt8]) async -> FrameOutcome, onOverload: @escaping @Sendable () -> Void
    ) {
        self.connections = connections
        self.serve = serve
        self.onOverload = onOverload
    }

    func channelActive(context: ChannelHandlerContext) {
        admitted = connections.admit(context.channel)
        guard admitted else {
            onOverload()
            context.close(promise: nil)
            return
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if admitted { connections.release(context.channel) }
        admitted = false
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard admitted else { return }
        guard queued < Self.maxQueuedFrames else {
            onOverload()
            context.close(promise: nil)
            return
        }
        queued += 1
        let bytes = Array(buffer: unwrapInboundIn(data))
        let loop = context.eventLoop
        let channel = context.channel
        let serve = self.serve
        let previous = tail ?? loop.makeSucceededVoidFuture()
        let handled = previous.flatMap {
            let outcome = loop.makePromise(of: FrameOutcome.self)
            outcome.completeWithTask { await serve(bytes) }
            return outcome.futureResult
        }.map { outcome in
            switch outcome {
            case .proceed: break
            case .reply(let reply): channel.writeAndFlush(ByteBuffer(bytes: reply), promise: nil)
            case .close: channel.close(promise: nil)
            }
        }
        tail = handled
        let handler = NIOLoopBound(self, eventLoop: loop)
        handled.whenComplete { _ in handler.value.queued -= 1 }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
