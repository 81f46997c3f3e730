import Crypto
import Foundation
import LocalityCore

/// What a sealed packet or frame carries.
public enum SealedContent: UInt8, Sendable, Hashable {
    /// A `SWIMEnvelope` (see `SWIMCodec`).
    case swim = 0
    /// A request for the receiver's member list (TCP only; `locality members`).
    case membersQuery = 1
    /// The answer to `membersQuery` (see `MembersReplyCodec`).
    case membersReply = 2
}

/// The encryption and authentication around every UDP packet and TCP frame body
/// (seal version 2, AES-256-GCM, after memberlist's `security.go`):
///
///     u8 seal version (2) | u8 content | u64 sender uid | u64 counter | 12-byte nonce | ciphertext | 16-byte tag
///
/// The 18-byte header stays in clear and is the GCM additional authenticated data, so it
/// cannot be changed without breaking the tag; the payload is encrypted (the ciphertext
/// is exactly as long as the payload). The nonce is random per packet (`AES.GCM.Nonce()`,
/// the system RNG). The AES key is derived from the cluster key with HKDF-SHA256 (see
/// `ClusterKeyring.cipherKeyInfo`), once per keyring. Packets are sealed with the
/// keyring's primary key and opened with the primary, then the accepted key.
///
/// `counter` rises by one per packet the sender seals (over UDP and TCP alike); receivers
/// check it with a `ReplayGuard`, per sender uid, after the tag verified.
///
/// Version 1 (HMAC-SHA256, payload in clear) is neither sent nor accepted: a version-1
/// packet is dropped as `wrongVersion`. A cluster upgrades from a version-1 build by
/// restarting all nodes (a mixed cluster does not gossip across versions).
///
/// Random 96-bit nonces stay safe for about 2³² packets per key (NIST SP 800-38D §8.3);
/// rotate the cluster key well before the whole cluster has sent that many (at 10,000
/// packets per second cluster-wide, in about five days: rotating monthly needs fewer
/// than 1,600 packets per second).
public enum PacketSeal {
    /// The seal format version, the first byte of every sealed packet.
    public static let version: UInt8 = 2
    /// The previous format (HMAC-SHA256 tag, payload in clear), refused as `wrongVersion`.
    public static let legacyVersion: UInt8 = 1
    /// Bytes before the nonce: version, content, sender uid, counter.
    public static let headerSize = 1 + 1 + 8 + 8
    /// Bytes of the random AES-GCM nonce after the header.
    public static let nonceSize = 12
    /// Bytes of the AES-GCM tag after the ciphertext.
    public static let tagSize = 16
    /// Bytes a seal adds to a payload (46; version 1 added 50).
    public static let overhead = headerSize + nonceSize + tagSize

    /// A verified, decrypted packet.
    public struct Opened: Sendable, Hashable {
        /// What the payload is.
        public var content: SealedContent
        /// The sealing process's uid (its replay window is kept under it).
        public var sender: UInt64
        /// The sender's packet counter, for the replay check.
        public var counter: UInt64
        /// The decrypted payload.
        public var payload: [UInt8]
        /// True when the accepted key opened it, not the primary: the sender still seals
        /// with the key being rotated out.
        public var openedWithAcceptedKey = false
    }

    /// Why a packet was dropped; the raw value is the `reason` metrics label.
    public enum DropReason: String, Sendable, CaseIterable {
        /// Shorter than a sealed empty payload, unknown content, or a payload that does not decode.
        case malformed
        /// A seal version this build does not speak (e.g. version 1 from an old build).
        case wrongVersion = "wrong_version"
        /// The tag verifies under neither key: another cluster, a key removed by a
        /// rotation, or a forgery.
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

    /// Encrypts `payload` with the keyring's primary key under a fresh random nonce.
    public static func seal(_ payload: [UInt8], content: SealedContent, sender: UInt64, counter: UInt64, keyring: ClusterKeyring) -> [UInt8] {
        var writer = WireWriter(reservingCapacity: payload.count + overhead)
        writer.write(version)
        writer.write(content.rawValue)
        writer.write(sender)
        writer.write(counter)
        let header = writer.bytes
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.seal(payload, using: keyring.primaryCipher, nonce: AES.GCM.Nonce(), authenticating: header)
        } catch {
            // Only a key of a size AES does not take or a nonce of another length fail;
            // the derived key is always 32 bytes and the nonce 12.
            preconditionFailure("AES-GCM sealing with a 32-byte key failed: \(error)")
        }
        writer.write(bytes: Array(box.nonce))
        writer.write(bytes: Array(box.ciphertext))
        writer.write(bytes: Array(box.tag))
        return writer.bytes
    }

    /// Checks the version, decrypts with the primary, then the accepted key (verifying
    /// the tag over header and ciphertext), and parses the header. Does not check replay
    /// (see `ReplayGuard`). Any input gives a result or a drop reason, never a trap.
    public static func open(_ bytes: [UInt8], keyring: ClusterKeyring) -> Result<Opened, DropReasonError> {
        guard bytes.count >= overhead else { return .failure(DropReasonError(.malformed)) }
        guard bytes[0] == version else { return .failure(DropReasonError(.wrongVersion)) }
        let header = bytes[0..<headerSize]
        let tagStart = bytes.count - tagSize
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: bytes[headerSize..<(headerSize + nonceSize)]),
                ciphertext: bytes[(headerSize + nonceSize)..<tagStart], tag: bytes[tagStart...])
        } catch {
            return .failure(DropReasonError(.malformed))
        }
        var plaintext = try? AES.GCM.open(box, using: keyring.primaryCipher, authenticating: header)
        var withAccepted = false
        if plaintext == nil, let accepted = keyring.acceptedCipher {
            plaintext = try? AES.GCM.open(box, using: accepted, authenticating: header)
            withAccepted = plaintext != nil
        }
        guard let plaintext else { return .failure(DropReasonError(.badTag)) }
        guard let content = SealedContent(rawValue: bytes[1]) else { return .failure(DropReasonError(.malformed)) }
        var reader = WireReader(Array(header), offset: 2)
        do {
            let sender = try reader.readUInt64("sender")
            let counter = try reader.readUInt64("counter")
            return .success(Opened(
                content: content, sender: sender, counter: counter, payload: Array(plaintext), openedWithAcceptedKey: withAccepted))
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
