import Crypto
import Foundation
import LocalityCore

/// The shared secret of a cluster: a primary key that seals every outgoing packet and
/// frame, and at most one more key that is still accepted, so keys can rotate without a
/// flag day (install the new key as `accepted` everywhere, then make it primary
/// everywhere, then drop the old one) — memberlist's keyring.
///
/// Gossip does not use a cluster key directly: each key is stretched once, when the
/// keyring is built, into a 32-byte AES-256-GCM key with HKDF-SHA256 (RFC 5869; empty
/// salt, info `cipherKeyInfo`), since cluster keys are 16…1024 bytes long (see
/// `PacketSeal`). The transport handshake proves the raw key with HMAC-SHA256.
///
/// A running node holds its keyring in a `SharedClusterKeyring`, which
/// `ClusterKeyFileWatcher` replaces when the key file changes on disk.
///
/// Key file format (`--cluster-key-file`): UTF-8 text, one key per line; the first key
/// is the primary, an optional second one is the accepted key. Blank lines and lines
/// starting with `#` are ignored. A key is written in hex if every character is a hex
/// digit (even length), otherwise in standard base64; it must decode to 16…1024 bytes.
/// Generate one with `openssl rand -hex 32`.
public struct ClusterKeyring: Sendable {
    /// Signs outgoing packets; accepted on input.
    public let primary: SymmetricKey
    /// Accepted on input only.
    public let accepted: SymmetricKey?
    /// The AES-256-GCM key derived from `primary`: seals gossip, opens it first.
    let primaryCipher: SymmetricKey
    /// The AES-256-GCM key derived from `accepted`: opens gossip the primary cannot.
    let acceptedCipher: SymmetricKey?

    /// HKDF-SHA256 `info` of the gossip cipher keys; changing it changes every cipher key,
    /// so it is part of the seal format (version 2).
    public static let cipherKeyInfo = "locality/gossip/aes-256-gcm/v2"

    /// Shortest key accepted, in bytes (128 bits).
    public static let minimumKeyBytes = 16
    /// Longest key accepted, in bytes.
    public static let maximumKeyBytes = 1024

    /// A keyring from keys already in memory (not length-checked; see `init(primaryBytes:acceptedBytes:)`).
    public init(primary: SymmetricKey, accepted: SymmetricKey? = nil) {
        self.primary = primary
        self.accepted = accepted
        self.primaryCipher = Self.cipherKey(for: primary)
        self.acceptedCipher = accepted.map(Self.cipherKey(for:))
    }

    /// The AES-256-GCM key for gossip under `clusterKey`: HKDF-SHA256 with an empty salt
    /// and `cipherKeyInfo`, 32 bytes.
    static func cipherKey(for clusterKey: SymmetricKey) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: clusterKey, info: Array(cipherKeyInfo.utf8), outputByteCount: 32)
    }

    /// True when both keyrings hold the same primary and the same accepted key.
    public func hasSameKeys(as other: ClusterKeyring) -> Bool {
        primary == other.primary && accepted == other.accepted
    }

    /// Short, non-secret names of the keys for logs: the first 8 hex digits of each
    /// key's SHA-256 (`primary`, then `accepted` when there is one).
    public var fingerprints: [String] {
        [Self.fingerprint(primary)] + (accepted.map { [Self.fingerprint($0)] } ?? [])
    }

    private static func fingerprint(_ key: SymmetricKey) -> String {
        let digest = key.withUnsafeBytes { SHA256.hash(data: $0) }
        return digest.prefix(4).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Builds a keyring from raw key bytes.
    public init(primaryBytes: [UInt8], acceptedBytes: [UInt8]? = nil) throws(LocalityError) {
        for bytes in [primaryBytes] + (acceptedBytes.map { [$0] } ?? []) {
            guard (Self.minimumKeyBytes...Self.maximumKeyBytes).contains(bytes.count) else {
                throw LocalityError(.badRequest, "cluster key must be \(Self.minimumKeyBytes)…\(Self.maximumKeyBytes) bytes, got \(bytes.count)")
            }
        }
        self.init(primary: SymmetricKey(data: primaryBytes), accepted: acceptedBytes.map { SymmetricKey(data: $0) })
    }

    /// Parses the key file text (format in the type's doc).
    public init(fileText: String) throws(LocalityError) {
        let lines = fileText.split(whereSeparator: \.isNewline)
            .map { $0.trimmingWhitespace() }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard !lines.isEmpty else { throw LocalityError(.badRequest, "cluster key file has no key") }
        guard lines.count <= 2 else {
            throw LocalityError(.badRequest, "cluster key file has \(lines.count) keys; at most 2 (primary, accepted)")
        }
        let primary = try Self.decodeKeyText(lines[0])
        let accepted = try lines.count == 2 ? Self.decodeKeyText(lines[1]) : nil
        try self.init(primaryBytes: primary, acceptedBytes: accepted)
    }

    /// Reads and parses a key file (`--cluster-key-file`); the error says whether the
    /// file could not be read or what is wrong with its keys.
    public init(contentsOfFile path: String) throws(LocalityError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LocalityError(.badRequest, "cannot read cluster key file \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw LocalityError(.badRequest, "cluster key file \(path) is not UTF-8")
        }
        try self.init(fileText: text)
    }

    /// Decodes one key written in hex or base64.
    public static func decodeKeyText(_ text: String) throws(LocalityError) -> [UInt8] {
        let isHex = !text.isEmpty && text.utf8.count % 2 == 0 && text.allSatisfy(\.isHexDigit)
        if isHex {
            var bytes: [UInt8] = []
            var index = text.startIndex
            while index < text.endIndex {
                let next = text.index(index, offsetBy: 2)
                guard let byte = UInt8(text[index..<next], radix: 16) else { throw LocalityError(.badRequest, "bad hex in cluster key") }
                bytes.append(byte)
                index = next
            }
            return bytes
        }
        guard let bytes = Base64.decode(text) else {
            throw LocalityError(.badRequest, "cluster key is neither hex nor base64")
        }
        return bytes
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

/// Standard base64 (RFC 4648 §4) decoding with padding; nil on any invalid character.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func decode(_ text: String) -> [UInt8]? {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, char) in alphabet.enumerated() { table[Int(char)] = UInt8(index) }
        let chars = Array(text.utf8)
        guard !chars.isEmpty, chars.count % 4 == 0 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(chars.count / 4 * 3)
        for start in stride(from: 0, to: chars.count, by: 4) {
            var values: [UInt8] = []
            var padding = 0
            for offset in 0..<4 {
                let char = chars[start + offset]
                if char == UInt8(ascii: "=") {
                    guard start + 4 == chars.count, offset >= 2 else { return nil }
                    padding += 1
                    values.append(0)
                } else {
                    guard padding == 0, table[Int(char)] != 0xFF else { return nil }
                    values.append(table[Int(char)])
                }
            }
            let combined = UInt32(values[0]) << 18 | UInt32(values[1]) << 12 | UInt32(values[2]) << 6 | UInt32(values[3])
            output.append(UInt8(truncatingIfNeeded: combined >> 16))
            if padding < 2 { output.append(UInt8(truncatingIfNeeded: combined >> 8)) }
            if padding < 1 { output.append(UInt8(truncatingIfNeeded: combined)) }
        }
        return output
    }
}
