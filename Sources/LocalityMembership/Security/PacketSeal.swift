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
    /// The seal format version, the first byte of every sealed packet.
    public static let version: UInt8 = 1
    /// Bytes before the payload: version, content, sender uid, counter.
    public static let headerSize = 1 + 1 + 8 + 8
    /// Bytes of the HMAC-SHA256 tag after the payload.
    public static let tagSize = 32
    /// Bytes a seal adds to a payload (50).
    public static let overhead = headerSize + tagSize

    /// A verified packet.
    public struct Opened: Sendable, Hashable {
        /// What the payload is.
        public var content: SealedContent
        /// The sealing process's uid (its replay window is kept under it).
        public var sender: UInt64
        /// The sender's packet counter, for the replay check.
        public var counter: UInt64
        /// The authenticated payload.
        public var payload: [UInt8]
    }

    /// Why a packet was dropped; the raw value is the `reason` metrics label.
    public enum DropReason: String, Sendable, CaseIterable {
        /// Too short, unknown content, or a payload that does not decode.
        case malformed
        /// A seal version this build does not speak.
        case wrongVersion = "wrong_version"
        /// The tag verifies under neither key: another cluster, or a forgery.
        case badTag = "bad_tag"
        /// A counter already seen, or older than the sender's replay window.
        case replay
        /// A datagram over `GossipSettings.maxDatagramBytes`.
        case oversized
        /// The envelope's sender uid differs from the seal's.
        case senderMismatch = "sender_mismatch"
        /// A send or connection refused because its queue or connection bound was full.
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
        /// Why the packet was dropped.
        public var reason: DropReason
        /// An error carrying `reason`.
        public init(_ reason: DropReason) { self.reason = reason }
    }
}
