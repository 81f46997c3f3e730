import LocalityCore

/// A member's liveness as one member sees it (SWIM §4.2 plus memberlist's `left`).
public enum MemberStatus: UInt8, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    /// Answers probes, as far as this member knows (SWIM §4.2).
    case alive = 0
    /// Failed a probe; it may refute (raise its incarnation) until the suspicion timeout ends (SWIM §4.2, Lifeguard §IV.B).
    case suspect = 1
    /// Declared failed: its suspicion expired, or its stream ping was refused. A live member declared dead by mistake refutes with a higher incarnation.
    case dead = 2
    /// Left gracefully; never suspected, never revived under the same incarnation.
    case left = 3

    /// Orders by raw value: alive < suspect < dead < left.
    public static func < (lhs: MemberStatus, rhs: MemberStatus) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `alive`, `suspect`, `dead` or `left`, as in logs, metrics labels and the HTTP API.
    public var description: String {
        switch self {
        case .alive: "alive"
        case .suspect: "suspect"
        case .dead: "dead"
        case .left: "left"
        }
    }
}

/// What one member knows of another: the unit that gossip and push-pull carry.
public struct MemberState: Hashable, Sendable, CustomStringConvertible {
    /// The member's process identity (name and uid).
    public var id: NodeID
    /// Where the member gossips (UDP and TCP, one port).
    public var address: NodeAddress
    /// Raised only by the member itself, to refute a suspicion (SWIM §4.2).
    public var incarnation: UInt64
    /// Its liveness as last heard.
    public var status: MemberStatus
    /// Small opaque metadata (bounded by `SWIMSettings.maxMetadataBytes`).
    public var metadata: [UInt8]

    /// A member's state as gossiped.
    public init(id: NodeID, address: NodeAddress, incarnation: UInt64, status: MemberStatus, metadata: [UInt8] = []) {
        self.id = id
        self.address = address
        self.incarnation = incarnation
        self.status = status
        self.metadata = metadata
    }

    /// `id@address status inc=N`, for logs.
    public var description: String { "\(id)@\(address) \(status) inc=\(incarnation)" }
}

/// A piggy-backed membership update (SWIM §4.1 "infection-style dissemination").
public struct GossipUpdate: Hashable, Sendable {
    /// The member state being spread.
    public var state: MemberState
    /// Who raised this update. For `suspect`, Lifeguard counts distinct origins as
    /// independent confirmations (Lifeguard §IV.B).
    public var origin: NodeID

    /// An update about `state`, raised by `origin`.
    public init(state: MemberState, origin: NodeID) {
        self.state = state
        self.origin = origin
    }
}

/// The protocol messages between members.
public enum SWIMMessage: Hashable, Sendable {
    /// Direct probe of `target` (SWIM §3.1). `sequence` pairs it with its ack.
    case ping(sequence: UInt32, target: NodeID)
    /// Ask the receiver to probe `target` for us (SWIM §3.1 ping-req). With `wantsNack`,
    /// the receiver answers `nack` when its own probe times out (Lifeguard §IV.A).
    case pingRequest(sequence: UInt32, target: NodeID, targetAddress: NodeAddress, wantsNack: Bool)
    /// Answer to `ping` or `pingRequest` carrying the probed member's id.
    case ack(sequence: UInt32, target: NodeID)
    /// An indirect prober reached nobody: tells the requester the network, not it, may be slow.
    case nack(sequence: UInt32)
    /// Full state exchange (memberlist push-pull): on join, periodically, and to heal partitions.
    case pushPull(isJoin: Bool, isReply: Bool, states: [MemberState])
    /// Piggy-back only: a gossip round's packet that carries updates and asks for no answer
    /// (SWIM §4.1; memberlist's gossip compound message). Added with the SWIM core.
    case gossip
}

/// One packet's worth of protocol: who sent it, the message and the piggy-backed gossip.
public struct SWIMEnvelope: Hashable, Sendable {
    /// The member that sent the packet.
    public var sender: NodeID
    /// Where the sender gossips, so a receiver can answer and add it.
    public var senderAddress: NodeAddress
    /// The protocol message proper.
    public var message: SWIMMessage
    /// Updates piggy-backed on the message, as many as fit the packet (SWIM §4.1).
    public var gossip: [GossipUpdate]

    /// An envelope from `sender`, optionally carrying `gossip`.
    public init(sender: NodeID, senderAddress: NodeAddress, message: SWIMMessage, gossip: [GossipUpdate] = []) {
        self.sender = sender
        self.senderAddress = senderAddress
        self.message = message
        self.gossip = gossip
    }
}

// MARK: - Wire sizes

// The binary wire format (implemented by the gossip codec; these sizes must match it
// byte for byte, a codec test checks that) writes:
//   NodeID       = u8 name length, name UTF-8, u64 uid
//   NodeAddress  = u8 host length, host UTF-8, u16 port
//   MemberState  = NodeID, NodeAddress, u64 incarnation, u8 status, u16 metadata length, metadata
//   GossipUpdate = MemberState, NodeID origin
// All integers big-endian. The SWIM core uses these sizes to fill a UDP packet with
// piggy-backed gossip without exceeding `SWIMSettings.maxPacketBytes`.

extension NodeID {
    /// Encoded size in bytes (see the wire format above).
    public var encodedSize: Int { 1 + name.utf8.count + 8 }
}

extension NodeAddress {
    /// Encoded size in bytes (see the wire format above).
    public var encodedSize: Int { 1 + host.utf8.count + 2 }
}

extension MemberState {
    /// Encoded size in bytes (see the wire format above).
    public var encodedSize: Int { id.encodedSize + address.encodedSize + 8 + 1 + 2 + metadata.count }
}

extension GossipUpdate {
    /// Encoded size in bytes (see the wire format above).
    public var encodedSize: Int { state.encodedSize + origin.encodedSize }
}
