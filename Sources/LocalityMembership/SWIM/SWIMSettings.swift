import LocalityCore

/// Configuration of the SWIM + Lifeguard core. Defaults follow hashicorp/memberlist's LAN
/// profile except where the simulator showed a better choice (see docs/membership.md).
public struct SWIMSettings: Sendable, Hashable {
    /// Time between two probes of the failure detector (SWIM §3.1 "protocol period T").
    /// Default 1 s. Scaled by the local health multiplier (Lifeguard §IV.A).
    public var probeInterval: Duration = .seconds(1)
    /// How long a direct ping waits for its ack before indirect probes start. Default 500 ms.
    /// Scaled by the local health multiplier.
    public var probeTimeout: Duration = .milliseconds(500)
    /// Number of members asked to probe indirectly (SWIM §3.1 "k"). Default 5 (memberlist:
    /// 3): under 20% loss it makes 2.5× fewer false suspicions for a few more packets only
    /// when a direct ping fails. Count.
    public var indirectChecks: Int = 5
    /// Multiplier of the minimum suspicion timeout: min = max(suspicionFloor, suspicionMult ×
    /// log10(max(1, N)) × probeInterval) (memberlist suspicion.go). Default 1 (memberlist: 4);
    /// chosen with the simulator, see docs/membership.md. Unitless.
    public var suspicionMult: Double = 1
    /// Lower bound of the minimum suspicion timeout, whatever the cluster size, so a small
    /// cluster still rides out a few seconds of pause. Default 3 s (our addition).
    public var suspicionFloor: Duration = .seconds(3)
    /// The suspicion timeout starts at suspicionMaxTimeoutMult × min and falls toward min as
    /// independent confirmations arrive (Lifeguard §IV.B). Default 6. Unitless.
    public var suspicionMaxTimeoutMult: Double = 6
    /// Independent confirmations needed to reach the minimum suspicion timeout (Lifeguard
    /// §IV.B "K"). Default 3 (memberlist: SuspicionMult − 2 = 2). Count.
    public var suspicionConfirmations: Int? = 3
    /// Each broadcast is piggy-backed up to retransmitMult × ceil(log10(N + 1)) times
    /// (SWIM §4.1 "λ log n"). Default 6 (memberlist: 4): under 20% loss, 4 left a member
    /// missing every copy of a refutation often enough to cause false positives. Unitless.
    public var retransmitMult: Int = 6
    /// Time between two gossip rounds (sent only when the broadcast queue is not empty).
    /// Default 200 ms.
    public var gossipInterval: Duration = .milliseconds(200)
    /// Members gossiped to per gossip round. Default 3.
    public var gossipNodes: Int = 3
    /// A member dead for less than this still receives gossip rounds, so one declared dead
    /// by mistake learns it and refutes (memberlist GossipToTheDeadTime). Default 30 s;
    /// members are reaped after `reapAfter` anyway.
    public var gossipToTheDeadTime: Duration = .seconds(30)
    /// Time between two full-state exchanges with one random member (memberlist push-pull),
    /// scaled up above 32 members as memberlist does. Default 30 s; zero disables.
    public var pushPullInterval: Duration = .seconds(30)
    /// Upper bound (exclusive) of the local health score (Lifeguard §IV.A "S"). Default 8.
    public var awarenessMaxMultiplier: Int = 8
    /// How long a dead or left member stays in the view before it is reaped (an event
    /// `.removed` is emitted). Long enough for every member to learn the death by gossip
    /// and push-pull (memberlist keeps gossiping to the dead for 30 s). Default 30 s.
    public var reapAfter: Duration = .seconds(30)
    /// How long a reaped member's (id, incarnation) tombstone blocks stale `alive` gossip.
    /// Default 300 s. Tombstones are also bounded by `maxMembers` (the oldest is dropped).
    public var tombstoneTTL: Duration = .seconds(300)
    /// Largest encoded datagram, envelope plus piggy-back. Default 1400 bytes (fits an
    /// Ethernet MTU with IP/UDP headers and an authentication tag).
    public var maxPacketBytes: Int = 1400
    /// Largest metadata a member may carry. Default 512 bytes.
    public var maxMetadataBytes: Int = 512
    /// Upper bound on members in the view (self included). Over it, new members are not
    /// added (their `alive` updates are ignored) until reaping makes room. Default 16,384.
    public var maxMembers: Int = 16_384
    /// Upper bound on concurrent indirect probes this member runs for others; over it
    /// ping-req messages are dropped (the requester then relies on its other helpers).
    /// Default 256.
    public var maxRelays: Int = 256
    /// Bytes reserved in every datagram for the envelope header and message fields on top
    /// of the sender id and address (conservative; the codec's fixed overhead is smaller).
    /// Default 64 bytes.
    public var envelopeOverheadBytes: Int = 64

    /// A tick later than this past its deadline means this member was stalled (GC pause,
    /// SIGSTOP, overload). Default 500 ms.
    public var stallThreshold: Duration = .milliseconds(500)
    /// After a stall, timers wait this long so the shell can hand over the packets that
    /// queued meanwhile (a refutation among them) before any suspicion expires or probe
    /// fails. Default 100 ms.
    public var stallGrace: Duration = .milliseconds(100)
    /// A refused stream connection (ECONNREFUSED: nothing listens at the address) to the
    /// member under probe, before its ack, declares it dead at once instead of waiting for
    /// the suspicion timeout: a paused or slow process keeps its listening socket, so only a
    /// gone process refuses. Ours, not in SWIM/Lifeguard; see docs/membership.md for its
    /// limits (a firewall that rejects looks like a crash). Default true.
    public var refusedConnectionMeansDead = true

    /// The defaults, chosen in docs/membership.md ("Choosing the defaults").
    public init() {}

    /// Confirmations K for the Lifeguard suspicion timeout (nil → memberlist's rule).
    public var expectedSuspicionConfirmations: Int {
        suspicionConfirmations ?? max(0, Int(suspicionMult) - 2)
    }
}
