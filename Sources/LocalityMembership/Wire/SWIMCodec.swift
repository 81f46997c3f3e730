import LocalityCore

/// The binary encoding of `SWIMEnvelope`:
///
///     u8 version (1) | u8 kind | NodeID sender | NodeAddress senderAddress
///     | message fields | u16 gossip count | GossipUpdate × count
///
/// Message fields by kind (all integers big-endian, element layouts as documented at the
/// bottom of `SWIMMessage.swift`):
///   0 ping         u32 sequence, NodeID target
///   1 pingRequest  u32 sequence, NodeID target, NodeAddress targetAddress, u8 wantsNack (0/1)
///   2 ack          u32 sequence, NodeID target
///   3 nack         u32 sequence
///   4 pushPull     u8 flags (bit 0 isJoin, bit 1 isReply), u16 count, MemberState × count
///   5 gossip       (no fields: the packet only carries piggy-backed updates)
///
/// Decoding is total: any input either yields an envelope or throws
/// `LocalityError(.badRequest, …)` (truncated, trailing bytes, wrong version, unknown
/// kind or status, invalid UTF-8, port 0, input over `maxBytes`).
public enum SWIMCodec {
    /// The wire protocol version written first in every envelope.
    public static let version: UInt8 = 1

    /// Smallest encodings, used to bound counts read from the wire.
    static let minimumNodeIDSize = 1 + 8
    static let minimumAddressSize = 1 + 1 + 2
    static let minimumMemberStateSize = minimumNodeIDSize + minimumAddressSize + 8 + 1 + 2
    static let minimumGossipSize = minimumMemberStateSize + minimumNodeIDSize

    enum Kind: UInt8 {
        case ping = 0, pingRequest, ack, nack, pushPull, gossip
    }

    /// Bytes of an envelope before its message fields and gossip: version, kind, sender,
    /// sender address; plus the trailing gossip count.
    public static func headerSize(sender: NodeID, senderAddress: NodeAddress) -> Int {
        2 + sender.encodedSize + senderAddress.encodedSize + 2
    }

    // MARK: encode

    /// Encodes an envelope. Throws `badRequest` only for values the format cannot carry
    /// (a name or host over 255 bytes, metadata over 65 535 bytes, more than 65 535 elements).
    public static func encode(_ envelope: SWIMEnvelope) throws(LocalityError) -> [UInt8] {
        var writer = WireWriter(reservingCapacity: 512)
        writer.write(version)
        switch envelope.message {
        case .ping: writer.write(Kind.ping.rawValue)
        case .pingRequest: writer.write(Kind.pingRequest.rawValue)
        case .ack: writer.write(Kind.ack.rawValue)
        case .nack: writer.write(Kind.nack.rawValue)
        case .pushPull: writer.write(Kind.pushPull.rawValue)
        case .gossip: writer.write(Kind.gossip.rawValue)
        }
        try write(envelope.sender, to: &writer)
        try write(envelope.senderAddress, to: &writer)
        switch envelope.message {
        case .ping(let sequence, let target), .ack(let sequence, let target):
            writer.write(sequence)
            try write(target, to: &writer)
        case .pingRequest(let sequence, let target, let targetAddress, let wantsNack):
            writer.write(sequence)
            try write(target, to: &writer)
            try write(targetAddress, to: &writer)
            writer.write(wantsNack ? UInt8(1) : 0)
        case .nack(let sequence):
            writer.write(sequence)
        case .pushPull(let isJoin, let isReply, let states):
            writer.write(UInt8((isJoin ? 1 : 0) | (isReply ? 2 : 0)))
            try writer.writeCount(states.count, field: "push-pull states")
            for state in states { try write(state, to: &writer) }
        case .gossip:
            break
        }
        try writer.writeCount(envelope.gossip.count, field: "gossip")
        for update in envelope.gossip {
            try write(update.state, to: &writer)
            try write(update.origin, to: &writer)
        }
        return writer.bytes
    }

    /// Writes `u8 name length | name | u64 uid`.
    public static func write(_ id: NodeID, to writer: inout WireWriter) throws(LocalityError) {
        try writer.writeShortString(id.name, field: "node name")
        writer.write(id.uid)
    }

    /// Writes `u8 host length | host | u16 port`; throws `bad_request` for an empty host or a port outside 1…65535.
    public static func write(_ address: NodeAddress, to writer: inout WireWriter) throws(LocalityError) {
        guard (1...Int(UInt16.max)).contains(address.port) else {
            throw LocalityError(.badRequest, "port \(address.port) out of range")
        }
        guard !address.host.isEmpty else { throw LocalityError(.badRequest, "empty host") }
        try writer.writeShortString(address.host, field: "host")
        writer.write(UInt16(address.port))
    }

    /// Writes id, address, incarnation, status and `u16`-prefixed metadata.
    public static func write(_ state: MemberState, to writer: inout WireWriter) throws(LocalityError) {
        try write(state.id, to: &writer)
        try write(state.address, to: &writer)
        writer.write(state.incarnation)
        writer.write(state.status.rawValue)
        try writer.writeCount(state.metadata.count, field: "metadata bytes")
        writer.write(bytes: state.metadata)
    }

    // MARK: decode

    /// Decodes one envelope from untrusted bytes (see the type's doc for what throws).
    public static func decode(_ bytes: [UInt8], maxBytes: Int = 65_507) throws(LocalityError) -> SWIMEnvelope {
        guard bytes.count <= maxBytes else {
            throw LocalityError(.badRequest, "envelope of \(bytes.count) bytes exceeds \(maxBytes)")
        }
        var reader = WireReader(bytes)
        let wireVersion = try reader.readUInt8("version")
        guard wireVersion == version else {
            throw LocalityError(.badRequest, "wire version \(wireVersion), expected \(version)")
        }
        let rawKind = try reader.readUInt8("kind")
        guard let kind = Kind(rawValue: rawKind) else { throw LocalityError(.badRequest, "unknown message kind \(rawKind)") }
        let sender = try readNodeID(&reader)
        let senderAddress = try readAddress(&reader)
        let message: SWIMMessage
        switch kind {
        case .ping:
            message = .ping(sequence: try reader.readUInt32("sequence"), target: try readNodeID(&reader))
        case .ack:
            message = .ack(sequence: try reader.readUInt32("sequence"), target: try readNodeID(&reader))
        case .pingRequest:
            let sequence = try reader.readUInt32("sequence")
            let target = try readNodeID(&reader)
            let targetAddress = try readAddress(&reader)
            let flag = try reader.readUInt8("wantsNack")
            guard flag <= 1 else { throw LocalityError(.badRequest, "wantsNack must be 0 or 1") }
            message = .pingRequest(sequence: sequence, target: target, targetAddress: targetAddress, wantsNack: flag == 1)
        case .nack:
            message = .nack(sequence: try reader.readUInt32("sequence"))
        case .gossip:
            message = .gossip
        case .pushPull:
            let flags = try reader.readUInt8("push-pull flags")
            guard flags <= 3 else { throw LocalityError(.badRequest, "unknown push-pull flags \(flags)") }
            let count = try reader.readCount("push-pull states", minimumElementSize: minimumMemberStateSize)
            var states: [MemberState] = []
            states.reserveCapacity(count)
            for _ in 0..<count { states.append(try readMemberState(&reader)) }
            message = .pushPull(isJoin: flags & 1 != 0, isReply: flags & 2 != 0, states: states)
        }
        let gossipCount = try reader.readCount("gossip", minimumElementSize: minimumGossipSize)
        var gossip: [GossipUpdate] = []
        gossip.reserveCapacity(gossipCount)
        for _ in 0..<gossipCount {
            let state = try readMemberState(&reader)
            gossip.append(GossipUpdate(state: state, origin: try readNodeID(&reader)))
        }
        try reader.expectEnd()
        return SWIMEnvelope(sender: sender, senderAddress: senderAddress, message: message, gossip: gossip)
    }

    /// Reads a `NodeID` written by `write(_:to:)`.
    public static func readNodeID(_ reader: inout WireReader) throws(LocalityError) -> NodeID {
        let name = try reader.readShortString("node name")
        return NodeID(name: name, uid: try reader.readUInt64("node uid"))
    }

    /// Reads a `NodeAddress`; an empty host or port 0 is `bad_request`.
    public static func readAddress(_ reader: inout WireReader) throws(LocalityError) -> NodeAddress {
        let host = try reader.readShortString("host")
        guard !host.isEmpty else { throw LocalityError(.badRequest, "empty host") }
        let port = try reader.readUInt16("port")
        guard port != 0 else { throw LocalityError(.badRequest, "port 0") }
        return NodeAddress(host: host, port: Int(port))
    }

    /// Reads a `MemberState`; an unknown status is `bad_request`.
    public static func readMemberState(_ reader: inout WireReader) throws(LocalityError) -> MemberState {
        let id = try readNodeID(&reader)
        let address = try readAddress(&reader)
        let incarnation = try reader.readUInt64("incarnation")
        let rawStatus = try reader.readUInt8("status")
        guard let status = MemberStatus(rawValue: rawStatus) else {
            throw LocalityError(.badRequest, "unknown member status \(rawStatus)")
        }
        let metadataLength = Int(try reader.readUInt16("metadata length"))
        let metadata = try reader.readBytes(metadataLength, "metadata")
        return MemberState(id: id, address: address, incarnation: incarnation, status: status, metadata: metadata)
    }
}
