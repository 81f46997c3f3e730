import LocalityCore

/// The answer to a members query (`locality members`):
///
///     u8 version (1) | NodeID responder | u16 count | MemberState × count
///
/// Decoding is total, like `SWIMCodec`.
public enum MembersReplyCodec {
    /// Encodes a reply; throws `bad_request` for a field the wire cannot carry (a name over 255 bytes, over 65,535 members).
    public static func encode(responder: NodeID, members: [MemberState]) throws(LocalityError) -> [UInt8] {
        var writer = WireWriter(reservingCapacity: 64 + members.reduce(0) { $0 + $1.encodedSize })
        writer.write(SWIMCodec.version)
        try SWIMCodec.write(responder, to: &writer)
        try writer.writeCount(members.count, field: "members")
        for member in members { try SWIMCodec.write(member, to: &writer) }
        return writer.bytes
    }

    /// Decodes a reply from untrusted bytes; throws `bad_request` on malformed, truncated or trailing input.
    public static func decode(_ bytes: [UInt8]) throws(LocalityError) -> (responder: NodeID, members: [MemberState]) {
        var reader = WireReader(bytes)
        let wireVersion = try reader.readUInt8("version")
        guard wireVersion == SWIMCodec.version else {
            throw LocalityError(.badRequest, "wire version \(wireVersion), expected \(SWIMCodec.version)")
        }
        let responder = try SWIMCodec.readNodeID(&reader)
        let count = try reader.readCount("members", minimumElementSize: SWIMCodec.minimumMemberStateSize)
        var members: [MemberState] = []
        members.reserveCapacity(count)
        for _ in 0..<count { members.append(try SWIMCodec.readMemberState(&reader)) }
        try reader.expectEnd()
        return (responder, members)
    }
}
