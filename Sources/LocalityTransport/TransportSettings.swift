import NIOCore

/// Configuration of the node-to-node transport: every bound it enforces lives here.
///
/// Overload behaviour: a caller that would cross `maxInFlightPerConnection`,
/// `maxQueuedBytesPerPeer` or `maxConnections` gets `LocalityError(.overloaded)` at once;
/// nothing is queued beyond these bounds. An inbound connection whose handlers are all
/// busy (`maxConcurrentHandlersPerConnection`) stops reading its socket, so the peer
/// feels TCP back pressure.
public struct TransportSettings: Sendable {
    /// Largest frame accepted or sent, header included, in bytes. Default 4 MiB.
    /// A larger inbound frame is answered with an error frame and the connection closes.
    public var maxFrameSize: Int = 4 * 1024 * 1024
    /// Calls awaiting a reply on one outbound connection. Default 4096 calls.
    public var maxInFlightPerConnection: Int = 4096
    /// Bytes accepted for a peer but not yet handed to the kernel (outbox plus NIO's
    /// pending writes). Default 8 MiB.
    public var maxQueuedBytesPerPeer: Int = 8 * 1024 * 1024
    /// Open connections, inbound plus outbound. Default 1024 connections.
    public var maxConnections: Int = 1024
    /// Handler tasks running at once for one inbound connection; at this bound the
    /// connection stops reading. Default 1024 tasks.
    public var maxConcurrentHandlersPerConnection: Int = 1024
    /// Time allowed for connect plus handshake. Default 5 s.
    public var handshakeTimeout: Duration = .seconds(5)
    /// First reconnect delay after a failed connect. Default 50 ms.
    public var reconnectBaseDelay: Duration = .milliseconds(50)
    /// Longest reconnect delay (the exponential growth stops here). Default 5 s.
    public var reconnectMaxDelay: Duration = .seconds(5)
    /// How often an outbound connection checks its calls for passed deadlines; a call
    /// fails with `deadline_exceeded` at most this late. Default 5 ms.
    public var deadlineSweepInterval: Duration = .milliseconds(5)
    /// Time `shutdown()` waits for in-flight calls to finish before closing. Default 5 s.
    public var drainTimeout: Duration = .seconds(5)
    /// NIO write-buffer low water mark in bytes (channel writability metric). Default 256 KiB.
    public var writeBufferLowWaterMark: Int = 256 * 1024
    /// NIO write-buffer high water mark in bytes (channel writability metric). Default 1 MiB.
    public var writeBufferHighWaterMark: Int = 1024 * 1024
    /// Mutual TLS between nodes; nil runs plain TCP (loopback development only: the
    /// cluster key then authenticates peers but nothing is encrypted). Default nil.
    public var tls: TransportTLSSettings?

    /// Every bound and interval at its default (given on each property).
    public init() {}
}

extension Duration {
    /// The duration as a NIO `TimeAmount`.
    var timeAmount: TimeAmount { .nanoseconds(nanoseconds) }
}
