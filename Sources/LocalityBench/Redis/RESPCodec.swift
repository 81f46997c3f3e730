import LocalityCore
import NIOCore

/// Writes RESP2: commands as arrays of bulk strings, and any value (for tests and servers).
public enum RESPEncoder {
    /// Appends the command `arguments` (`["EVALSHA", sha, "1", key, "3"]`) to `buffer`.
    public static func writeCommand(_ arguments: [String], into buffer: inout ByteBuffer) {
        buffer.writeString("*\(arguments.count)\r\n")
        for argument in arguments {
            buffer.writeString("$\(argument.utf8.count)\r\n")
            buffer.writeString(argument)
            buffer.writeString("\r\n")
        }
    }

    /// Appends `value` to `buffer`.
    public static func write(_ value: RESPValue, into buffer: inout ByteBuffer) {
        switch value {
        case .simpleString(let text):
            buffer.writeString("+\(text)\r\n")
        case .error(let text):
            buffer.writeString("-\(text)\r\n")
        case .integer(let number):
            buffer.writeString(":\(number)\r\n")
        case .bulkString(nil):
            buffer.writeString("$-1\r\n")
        case .bulkString(let bytes?):
            buffer.writeString("$\(bytes.count)\r\n")
            buffer.writeBytes(bytes)
            buffer.writeString("\r\n")
        case .array(nil):
            buffer.writeString("*-1\r\n")
        case .array(let values?):
            buffer.writeString("*\(values.count)\r\n")
            for element in values { write(element, into: &buffer) }
        }
    }
}

/// Reads RESP2 incrementally: `parse(&buffer)` returns the next complete value (moving
/// the buffer's reader index past it) or nil when more bytes are needed (reader index
/// unchanged). Malformed input throws `LocalityError(.badRequest)` naming the problem.
///
/// Bounds: a bulk string is at most `maxBulkLength` bytes, an array at most
/// `maxArrayCount` elements, nesting at most `maxDepth`, a line at most `maxLineLength`
/// bytes; past a bound the input is malformed.
public struct RESPParser: Sendable {
    public var maxBulkLength = 64 << 20
    public var maxArrayCount = 1 << 20
    public var maxDepth = 16
    public var maxLineLength = 64 << 10

    public init() {}

    public func parse(_ buffer: inout ByteBuffer) throws -> RESPValue? {
        var copy = buffer
        guard let value = try parseValue(&copy, depth: 0) else { return nil }
        buffer = copy
        return value
    }

    private func parseValue(_ buffer: inout ByteBuffer, depth: Int) throws -> RESPValue? {
        guard depth <= maxDepth else { throw Self.malformed("nesting deeper than \(maxDepth)") }
        guard let type = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        guard let line = try readLine(&buffer, skipping: 1) else { return nil }
        switch type {
        case UInt8(ascii: "+"):
            return .simpleString(line)
        case UInt8(ascii: "-"):
            return .error(line)
        case UInt8(ascii: ":"):
            guard let number = Int64(line) else { throw Self.malformed("integer '\(line.prefix(32))'") }
            return .integer(number)
        case UInt8(ascii: "$"):
            guard let length = Int(line), length >= -1 else { throw Self.malformed("bulk length '\(line.prefix(32))'") }
            if length == -1 { return .bulkString(nil) }
            guard length <= maxBulkLength else { throw Self.malformed("bulk string of \(length) bytes (limit \(maxBulkLength))") }
            guard buffer.readableBytes >= length + 2 else { return nil }
            let bytes = buffer.readBytes(length: length)!
            guard buffer.readInteger(as: UInt8.self) == UInt8(ascii: "\r"), buffer.readInteger(as: UInt8.self) == UInt8(ascii: "\n") else {
                throw Self.malformed("bulk string not followed by CRLF")
            }
            return .bulkString(bytes)
        case UInt8(ascii: "*"):
            guard let count = Int(line), count >= -1 else { throw Self.malformed("array count '\(line.prefix(32))'") }
            if count == -1 { return .array(nil) }
            guard count <= maxArrayCount else { throw Self.malformed("array of \(count) elements (limit \(maxArrayCount))") }
            var elements: [RESPValue] = []
            elements.reserveCapacity(min(count, 1024))
            for _ in 0..<count {
                guard let element = try parseValue(&buffer, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            return .array(elements)
        default:
            throw Self.malformed("unknown type byte 0x\(String(type, radix: 16))")
        }
    }

    /// The text up to CRLF after `skipping` bytes, consuming the CRLF; nil if incomplete.
    private func readLine(_ buffer: inout ByteBuffer, skipping: Int) throws -> String? {
        let view = buffer.readableBytesView.dropFirst(skipping)
        guard let carriageReturn = view.firstIndex(of: UInt8(ascii: "\r")) else {
            guard view.count <= maxLineLength else { throw Self.malformed("line longer than \(maxLineLength) bytes") }
            return nil
        }
        let length = carriageReturn - view.startIndex
        guard length <= maxLineLength else { throw Self.malformed("line longer than \(maxLineLength) bytes") }
        guard carriageReturn + 1 < view.endIndex else { return nil }
        guard view[carriageReturn + 1] == UInt8(ascii: "\n") else { throw Self.malformed("CR not followed by LF") }
        let text = String(decoding: view[view.startIndex..<carriageReturn], as: UTF8.self)
        buffer.moveReaderIndex(forwardBy: skipping + length + 2)
        return text
    }

    static func malformed(_ what: String) -> LocalityError {
        LocalityError(.badRequest, "malformed RESP: \(what)")
    }
}
