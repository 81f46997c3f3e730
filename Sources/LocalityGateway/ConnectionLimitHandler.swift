import NIOCore
import Synchronization

/// Counts the gateway's open connections (shared by every connection's handler).
final class ConnectionCounter: Sendable {
    private let open = Atomic<Int>(0)
    private let refusedCount = Atomic<Int>(0)

    /// Open connections now.
    var current: Int { open.load(ordering: .relaxed) }
    /// Connections closed on accept because the limit was reached.
    var refused: Int { refusedCount.load(ordering: .relaxed) }

    func opened() -> Int { open.add(1, ordering: .relaxed).newValue }
    func closed() { open.subtract(1, ordering: .relaxed) }
    func refusedOne() { refusedCount.add(1, ordering: .relaxed) }
}

/// First handler of each accepted connection: counts it and, when more than
/// `maxConnections` are open, closes it at once (the client sees the connection closed
/// before any answer; counted as `connection_limit` refusals). Closing right away keeps
/// the cost of an over-limit connection to one accept.
final class ConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let counter: ConnectionCounter
    private let maxConnections: Int
    private let onChange: @Sendable (_ open: Int, _ refused: Bool) -> Void
    private var counted = false

    init(counter: ConnectionCounter, maxConnections: Int, onChange: @escaping @Sendable (Int, Bool) -> Void) {
        self.counter = counter
        self.maxConnections = maxConnections
        self.onChange = onChange
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard !counted else { return }
        counted = true
        let open = counter.opened()
        let counter = self.counter
        let onChange = self.onChange
        context.channel.closeFuture.whenComplete { _ in
            counter.closed()
            onChange(counter.current, false)
        }
        if open > maxConnections {
            counter.refusedOne()
            onChange(open, true)
            context.close(promise: nil)
        } else {
            onChange(open, false)
        }
    }
}
