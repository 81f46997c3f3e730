import LocalityCore

/// How the shell must carry a message: a UDP datagram, or a TCP stream (fallback probes
/// and push-pull, memberlist net.go).
public enum SWIMTransportKind: Sendable, Hashable {
    /// A UDP datagram: probes, acks, nacks, ping-reqs and gossip rounds.
    case datagram
    /// A short TCP connection: the fallback stream ping, join and periodic push-pull.
    case stream
}

/// What the SWIM core asks its shell to do. The shell (NIO or simulator) executes
/// directives in order; the core itself does no IO.
public enum SWIMDirective: Sendable, Hashable {
    /// Send `envelope` to `address` over `via`.
    case send(SWIMEnvelope, to: NodeAddress, via: SWIMTransportKind)
    /// Report a membership change to subscribers.
    case event(MembershipEvent)
}
