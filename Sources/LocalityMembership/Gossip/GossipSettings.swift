/// Settings of the gossip node's IO shell (`GossipMembership`). The protocol itself is
/// configured by `SWIMSettings`.
public struct GossipSettings: Sendable {
    /// Largest UDP datagram accepted, in bytes, before it is dropped as `oversized`.
    /// Default 65 507 (the IPv4 UDP maximum); the sender side is bounded by `SWIMSettings.maxPacketBytes`.
    public var maxDatagramBytes: Int = 65_507
    /// Largest TCP frame body, in bytes. Default 4 MiB; larger frames close the connection.
    public var maxFrameBytes: Int = 4 << 20
    /// Timeout to open an outgoing TCP connection. Default 1 s.
    public var connectTimeout: Duration = .seconds(1)
    /// An inbound or outbound TCP connection silent for this long is closed. Default 5 s.
    public var readTimeout: Duration = .seconds(5)
    /// Inbound TCP connections served at once; more are closed on accept (`overloaded`). Default 64.
    public var maxInboundConnections: Int = 64
    /// Outgoing stream sends waiting to be made; when full, new sends fail at once and the
    /// core is told (`streamFailed`), counted as `overloaded`. Default 64.
    public var outboundStreamQueue: Int = 64
    /// Datagrams waiting for the UDP socket; when full, new ones are dropped (`overloaded`). Default 1024.
    public var outboundDatagramQueue: Int = 1024
    /// Outgoing TCP connections open at once. Default 4.
    public var outboundStreamWorkers: Int = 4
    /// Events buffered per `events()` subscriber; on overflow the oldest are dropped (see
    /// `GossipMembership.events()`). Default 1024.
    public var subscriberBuffer: Int = 1024
    /// Subscribers at once; more get a stream that finishes at once. Default 64.
    public var maxSubscribers: Int = 64
    /// Senders tracked for replay protection (see `ReplayGuard`). Default 4096.
    public var replaySenders: Int = 4096
    /// The timer loop sleeps at most this long before re-reading `SWIMCore.nextDeadline`,
    /// which bounds how late a deadline moved earlier by a received packet fires. Default 10 ms.
    public var tickGranularity: Duration = .milliseconds(10)
    /// While no other member is known, the seeds are asked again this often. Default 1 s.
    public var joinRetryInterval: Duration = .seconds(1)
    /// After a graceful `leave`, keep gossiping this long so the leave reaches others. Default 1 s.
    public var leaveGracePeriod: Duration = .seconds(1)
    /// Attempts to bind the UDP port again after NIO closed the socket on a send error
    /// (EPERM from a local firewall drop), 50 ms to 1 s apart; past them the node fails.
    /// Default 30 (about 25 s).
    public var udpRebindAttempts: Int = 30

    /// Every bound and interval at its default (given on each property).
    public init() {}
}
