import LocalityCore
import NIOCore

/// The payload of an error frame: `u8 code length | code (UTF-8) | u32 message length | message`.
///
/// The code travels as its stable string (`LocalityError.Code.rawValue`), so a peer that
/// knows a newer code still shows it; an unknown code decodes as `internal`.
public struct LocalityErrorPayload: Sendable, Equatable {
    /// Longest message kept on the wire, in bytes; longer ones are cut (between characters).
    public static let maxMessageBytes = 1024

    /// The stable code string (`LocalityError.Code.rawValue`).
    public var code: String
    /// The human-readable message (cut at `maxMessageBytes` on the wire).
    public var message: String

    /// The payload for `error`.
    public init(_ error: LocalityError) {
        self.code = error.code.rawValue
        self.message = error.message
    }

    /// A payload with a raw code, which may be one this build does not know.
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    /// The error as a `LocalityError` (unknown codes become `internal`).
    public var localityError: LocalityError {
        if let known = LocalityError.Code(rawValue: code) {
            return LocalityError(known, message)
        }
        return LocalityError(.internal, "\(code): \(message)")
    }

    func write(to buffer: inout ByteBuffer) {
        let codeBytes = code.utf8Prefix(maxBytes: 255)
        buffer.writeInteger(UInt8(codeBytes.count))
        buffer.writeBytes(codeBytes)
        let messageBytes = message.utf8Prefix(maxBytes: Self.maxMessageBytes)
        buffer.writeInteger(UInt32(messageBytes.count))
        buffer.writeBytes(messageBytes)
    }

    /// Decodes an error payload; nil when malformed.
    public static func read(from buffer: inout ByteBuffer) -> LocalityErrorPayload? {
        guard let codeLength = buffer.readInteger(as: UInt8.self),
              let code = buffer.readString(length: Int(codeLength)),
              let messageLength = buffer.readInteger(as: UInt32.self),
              messageLength <= UInt32(Self.maxMessageBytes),
              let message = buffer.readString(length: Int(messageLength))
        else { return nil }
        return LocalityErrorPayload(code: code, message: message)
    }
}
