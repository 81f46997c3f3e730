import Crypto
import Foundation
import LocalityCore

/// The shared secret of a cluster: a primary key that signs every outgoing packet and
/// frame, and at most one more key that is still accepted, so keys can rotate without a
/// flag day (install the new key as `accepted` everywhere, then make it primary
/// everywhere, then drop the old one) — memberlist's keyring, with HMAC-SHA256 tags.
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

    /// Shortest key accepted, in bytes (128 bits).
    public static let minimumKeyBytes = 16
    /// Longest key accepted, in bytes.
    public static let maximumKeyBytes = 1024

    /// A keyring from keys already in memory (not length-checked; see `init(primaryBytes:acceptedBytes:)`).
    public init(primary: SymmetricKey, accepted: SymmetricKey? = nil) {
        self.primary = primary
        self.accepted = accepted
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
