import Crypto
import LocalityCore

/// What an authenticated packet or frame carries.
public enum SealedContent: UInt8, Sendable, Hashable {
    /// A `SWIMEnvelope` (see `SWIMCodec`).
    case swim = 0
    /// A request for the receiver's member list (TCP only; `locality members`).
    case membersQuery = 1
    /// The answer to `membersQuery` (see `MembersReplyCodec`).
    case membersReply = 2
}

/// The authenticated header and tag around every UDP packet and TCP frame body:
///
///     u8 seal version (1) | u8 content | u64 sender uid | u64 counter | payload | 32-byte tag
///
/// `tag = HMAC-SHA256(key, every byte before the tag)`, made with the keyring's primary
/// key and checked against the primary and the accepted key. `counter` rises by one per
/// packet the sender seals (over UDP and TCP alike); receivers check it with a
/// `ReplayGuard`, per sender uid.
public enum PacketSeal {
    public static let version: UInt8 = 1
    public static let headerSize = 1 + 1 + 8 + 8
    public static let tagSize = 32
    public static let overhead = headerSize + tagSize

    /// A verified packet.
    public struct Opened: Sendable, Hashable {
        public var content: SealedContent
        public var sender: UInt64
        public var counter: UInt64
        public var payload: [UInt8]
    }

    /// Why a packet was dropped; the raw value is the `reason` metrics label.
    public enum DropReason: String, Sendable, CaseIterable {
        case malformed
        case wrongVersion = "wrong_version"
        case badTag = "bad_tag"
        case replay
        case oversized
        case senderMismatch = "sender_mismatch"
        case overloaded
    }

    /// Seals `payload` with the primary key.
    public static func seal(_ payload: [UInt8], content: SealedContent, sender: UInt64, counter: UInt64, keyring: ClusterKeyring) -> [UInt8] {
        var writer = WireWriter(reservingCapacity: payload.count + overhead)
        writer.write(version)
        writer.write(content.rawValue)
        writer.write(sender)
        writer.write(counter)
        writer.write(bytes: payload)
        let tag = HMAC<SHA256>.authenticationCode(for: writer.bytes, using: keyring.primary)
        writer.write(bytes: tag)
        return writer.bytes
    }

    /// Verifies the tag and parses the header. Does not check replay (see `ReplayGuard`).
    public static func open(_ bytes: [UInt8], keyring: ClusterKeyring) -> Result<Opened, DropReasonError> {
        guard bytes.count >= overhead else { return .failure(DropReasonError(.malformed)) }
        let signed = bytes[..<(bytes.count - tagSize)]
        let tag = bytes[(bytes.count - tagSize)...]
        var valid = HMAC<SHA256>.isValidAuthenticationCode(tag, authenticating: signed, using: keyring.primary)
        if !valid, let accepted = keyring.accepted {
            valid = HMAC<SHA256>.isValidAuthenticationCode(tag, authenticating: signed, using: accepted)
        }
        guard valid else { return .failure(DropReasonError(.badTag)) }
        guard bytes[0] == version else { return .failure(DropReasonError(.wrongVersion)) }
        guard let content = SealedContent(rawValue: bytes[1]) else { return .failure(DropReasonError(.malformed)) }
        var reader = WireReader(Array(signed), offset: 2)
        do {
            let sender = try reader.readUInt64("sender")
            let counter = try reader.readUInt64("counter")
            let payload = try reader.readBytes(reader.remaining, "payload")
            return .success(Opened(content: content, sender: sender, counter: counter, payload: payload))
        } catch {
            return .failure(DropReasonError(.malformed))
        }
    }

    /// A `DropReason` as an `Error`, for `Result`.
    public struct DropReasonError: Error, Sendable, Hashable {
        public var reason: DropReason
        public init(_ reason: DropReason) { self.reason = reason }
    }
}
