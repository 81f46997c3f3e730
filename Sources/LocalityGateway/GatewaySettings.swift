import LocalityCore

/// Limits and timeouts of the HTTP gateway. Every bound has an overload behavior:
///
/// - `maxBodyBytes`: a larger actor-call body is refused with 413 `payload_too_large`,
///   up front by `Content-Length` or as soon as the streamed body passes the limit; the
///   connection is closed after the answer (the rest of the body is not read).
/// - `maxInFlight` + `maxQueued`: actor calls beyond `maxInFlight` wait in a FIFO queue
///   of `maxQueued` entries for at most `maxQueueWait`; a call that finds the queue full,
///   or waits too long, gets 503 `overloaded` with `Retry-After`.
/// - `rateLimit`: optional per-client (remote IP) token bucket on `/v1/…`; an empty
///   bucket answers 429 `overloaded` with `Retry-After` (seconds until the next token).
/// - `maxConnections`: connections beyond it are closed right after accept (counted in
///   `locality_gateway_rejected_total{reason="connection_limit"}`).
/// - `idleTimeout`: a connection that sends nothing for this long (no complete request
///   head, no body part, no new request after a response) is closed: slow clients
///   (slowloris) cannot hold connections forever.
public struct GatewaySettings: Sendable {
    /// Address to bind (`127.0.0.1`, `0.0.0.0`).
    public var host: String
    /// Port to bind; 0 picks a free port (read it back from `GatewayServer.boundPort`).
    public var port: Int
    /// Largest actor-call request body, in bytes. Default 1 MiB.
    public var maxBodyBytes: Int
    /// Time the whole request body may take to arrive (after the call got its slot);
    /// slower: 408 `deadline_exceeded` and the connection closes. Default 10 s.
    public var bodyTimeout: Duration
    /// Time an actor call may take when the client asks for nothing shorter. Default 5 s.
    public var callTimeout: Duration
    /// Longest timeout a client may ask for with `X-Locality-Timeout-Ms`. Default 30 s.
    public var maxCallTimeout: Duration
    /// Actor calls running at once. Default 256.
    public var maxInFlight: Int
    /// Actor calls waiting for a slot. Default 1,024.
    public var maxQueued: Int
    /// Longest wait for a slot before 503. Default 1 s.
    public var maxQueueWait: Duration
    /// `Retry-After` seconds on 503 answers. Default 1.
    public var retryAfterSeconds: Int
    /// Per-client token bucket; nil disables it (the default).
    public var rateLimit: RateLimitSettings?
    /// Open connections at most; further connections are closed on accept. Default 16,384
    /// (an idle connection costs about 12 KiB, so about 200 MiB at the cap); the process's
    /// file descriptor limit must be above it.
    public var maxConnections: Int
    /// A connection idle (or sending its request head) this long is closed. Default 30 s.
    public var idleTimeout: Duration
    /// After answering with `Connection: close` while the client still sends (an oversized
    /// body), the gateway keeps reading and discarding for this long before it closes, so
    /// the client reads the answer instead of a reset. Default 2 s.
    public var lingerTime: Duration
    /// Server name in logs.
    public var serverName: String
    /// Seconds of per-second traffic history kept for `/v1/stats`. Default 300.
    public var statsSeconds: Int
    /// Client authentication by bearer tokens; nil (the default) answers everyone.
    public var auth: GatewayAuthSettings?
    /// HTTPS; nil (the default) serves plain HTTP.
    public var tls: GatewayTLSSettings?

    /// Settings with the defaults given on each property (127.0.0.1:8080).
    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        maxBodyBytes: Int = 1 << 20,
        bodyTimeout: Duration = .seconds(10),
        callTimeout: Duration = .seconds(5),
        maxCallTimeout: Duration = .seconds(30),
        maxInFlight: Int = 256,
        maxQueued: Int = 1_024,
        maxQueueWait: Duration = .seconds(1),
        retryAfterSeconds: Int = 1,
        rateLimit: RateLimitSettings? = nil,
        maxConnections: Int = 16_384,
        idleTimeout: Duration = .seconds(30),
        lingerTime: Duration = .seconds(2),
        serverName: String = "locality-gateway",
        statsSeconds: Int = 300,
        auth: GatewayAuthSettings? = nil,
        tls: GatewayTLSSettings? = nil
    ) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.bodyTimeout = bodyTimeout
        self.callTimeout = callTimeout
        self.maxCallTimeout = maxCallTimeout
        self.maxInFlight = maxInFlight
        self.maxQueued = maxQueued
        self.maxQueueWait = maxQueueWait
        self.retryAfterSeconds = retryAfterSeconds
        self.rateLimit = rateLimit
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.lingerTime = lingerTime
        self.serverName = serverName
        self.statsSeconds = statsSeconds
        self.auth = auth
        self.tls = tls
    }
}

/// A token bucket per client address: `ratePerSecond` tokens refill per second up to
/// `burst`; each request takes one. At most `maxClients` buckets are kept: when the map is
/// full, buckets that have refilled completely (the same as a new client) are dropped,
/// and if none has, the least recently seen client's bucket is evicted (counted by the
/// limiter; not exported as a metric).
public struct RateLimitSettings: Sendable {
    /// Tokens added per second.
    public var ratePerSecond: Double
    /// Most tokens a bucket holds: the largest burst a client may send at once.
    public var burst: Double
    /// Most buckets kept. Default 10,000.
    public var maxClients: Int

    /// A limit of `ratePerSecond` requests per second per client, bursts up to `burst`.
    public init(ratePerSecond: Double, burst: Double, maxClients: Int = 10_000) {
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        self.maxClients = maxClients
    }
}
