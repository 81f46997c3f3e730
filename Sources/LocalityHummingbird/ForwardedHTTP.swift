import HTTPTypes
import LocalityCore
import NIOCore

/// The bytes of an HTTP request or response forwarded between nodes inside a routed
/// envelope. Request: `u8 method length | method | u16 path length | path | fields | u32
/// body length | body`; response: `u16 status | fields | u32 body length | body`; fields:
/// `u16 count | (u16 name length | name | u16 value length | value)*`.
enum ForwardedHTTP {
    static func encode(method: HTTPRequest.Method, path: String, fields: HTTPFields, body: ByteBuffer) -> ByteBuffer {
        var buffer = ByteBuffer()
        let methodBytes = Array(method.rawValue.utf8.prefix(255))
        buffer.writeInteger(UInt8(methodBytes.count))
        buffer.writeBytes(methodBytes)
        writeShortString(path, to: &buffer)
        write(fields, to: &buffer)
        writeBody(body, to: &buffer)
        return buffer
    }

    static func decodeRequest(_ bytes: ByteBuffer) throws(LocalityError) -> (HTTPRequest.Method, String, HTTPFields, ByteBuffer) {
        var buffer = bytes
        guard let methodLength = buffer.readInteger(as: UInt8.self),
              let methodText = buffer.readString(length: Int(methodLength)),
              let method = HTTPRequest.Method(methodText),
              let path = readShortString(from: &buffer),
              let fields = readFields(from: &buffer),
              let body = readBody(from: &buffer)
        else { throw LocalityError(.badRequest, "malformed forwarded HTTP request") }
        return (method, path, fields, body)
    }

    static func encode(status: HTTPResponse.Status, fields: HTTPFields, body: ByteBuffer) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt16(clamping: status.code))
        write(fields, to: &buffer)
        writeBody(body, to: &buffer)
        return buffer
    }

    static func decodeResponse(_ bytes: ByteBuffer) throws(LocalityError) -> (HTTPResponse.Status, HTTPFields, ByteBuffer) {
        var buffer = bytes
        guard let status = buffer.readInteger(as: UInt16.self),
              let fields = readFields(from: &buffer),
              let body = readBody(from: &buffer)
        else { throw LocalityError(.badRequest, "malformed forwarded HTTP response") }
        return (HTTPResponse.Status(code: Int(status)), fields, body)
    }

    private static func writeShortString(_ text: String, to buffer: inout ByteBuffer) {
        let bytes = Array(text.utf8.prefix(Int(UInt16.max)))
        buffer.writeInteger(UInt16(bytes.count))
        buffer.writeBytes(bytes)
    }

    private static func readShortString(from buffer: inout ByteBuffer) -> String? {
        guard let length = buffer.readInteger(as: UInt16.self) else { return nil }
        return buffer.readString(length: Int(length))
    }

    private static func write(_ fields: HTTPFields, to buffer: inout ByteBuffer) {
        let kept = Array(fields.prefix(Int(UInt16.max)))
        buffer.writeInteger(UInt16(kept.count))
        for field in kept {
            writeShortString(field.name.rawName, to: &buffer)
            writeShortString(field.value, to: &buffer)
        }
    }

    private static func readFields(from buffer: inout ByteBuffer) -> HTTPFields? {
        guard let count = buffer.readInteger(as: UInt16.self) else { return nil }
        var fields = HTTPFields()
        for _ in 0..<count {
            guard let name = readShortString(from: &buffer), let value = readShortString(from: &buffer),
                  let fieldName = HTTPField.Name(name) else { return nil }
            fields.append(HTTPField(name: fieldName, value: value))
        }
        return fields
    }

    private static func writeBody(_ body: ByteBuffer, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(body.readableBytes))
        var body = body
        buffer.writeBuffer(&body)
    }

    private static func readBody(from buffer: inout ByteBuffer) -> ByteBuffer? {
        guard let length = buffer.readInteger(as: UInt32.self) else { return nil }
        return buffer.readSlice(length: Int(length))
    }
}
