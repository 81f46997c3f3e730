import LocalityCore

/// A call with JSON arguments as it travels to the actor's owner (inside a routed
/// request), so the owner decodes the JSON into the method's parameter types:
///
/// `u8 version=2 | u64 call chain (LE) | kind | key | method | JSON`, or, for a call
/// under an idempotency key,
/// `u8 version=3 | u64 call chain (LE) | kind | key | method | idempotency key | JSON`
///
/// kind, key, method and the idempotency key are varint-length UTF-8 strings; the JSON
/// arguments fill the rest. Versions 2 and 3 tell it apart from the binary
/// `InvocationMessage` (version 1) on the same route.
struct JSONInvocationMessage: Equatable, Sendable {
    static let version: UInt8 = 2
    static let keyedVersion: UInt8 = 3

    var chain: CallChainID
    var id: VirtualActorID
    var method: String
    var json: [UInt8]
    var idempotencyKey: IdempotencyKey? = nil

    func encoded() -> [UInt8] {
        var bytes: [UInt8] = [idempotencyKey == nil ? Self.version : Self.keyedVersion]
        bytes.reserveCapacity(9 + id.kind.utf8.count + id.key.utf8.count + method.utf8.count + 6 + json.count)
        withUnsafeBytes(of: chain.rawValue.littleEndian) { bytes.append(contentsOf: $0) }
        BinaryValue.writeString(id.kind, to: &bytes)
        BinaryValue.writeString(id.key, to: &bytes)
        BinaryValue.writeString(method, to: &bytes)
        if let idempotencyKey { BinaryValue.writeString(idempotencyKey.rawValue, to: &bytes) }
        bytes.append(contentsOf: json)
        return bytes
    }

    /// Whether `bytes` starts like a JSON invocation (either version).
    static func matches(_ bytes: [UInt8]) -> Bool {
        bytes.first == version || bytes.first == keyedVersion
    }

    static func decode(_ bytes: [UInt8]) throws(LocalityError) -> JSONInvocationMessage {
        var reader = ByteReader(bytes)
        let version = try reader.byte()
        guard version == Self.version || version == keyedVersion else { throw LocalityError(.badRequest, "not a JSON invocation") }
        let chain = CallChainID(rawValue: try reader.fixed(UInt64.self))
        let kind = try reader.string()
        let key = try reader.string()
        let method = try reader.string()
        let idempotencyKey = version == keyedVersion ? try IdempotencyKey(validating: try reader.string()) : nil
        let json = Array(bytes[(bytes.count - reader.remaining)...])
        return JSONInvocationMessage(
            chain: chain, id: VirtualActorID(kind: kind, key: key), method: method, json: json, idempotencyKey: idempotencyKey)
    }
}

/// The answer to a `JSONInvocationMessage` when the method ran (a `LocalityError` travels
/// as the transport's error frame instead):
///
/// `u8 status | body`: 0 result JSON (`null` for a method that returns nothing),
/// 2 error of an allowed type (type name, varint-length JSON), 3 any other error (type name).
enum JSONInvocationReply: Equatable, Sendable {
    case value([UInt8])
    case codableError(type: String, json: [UInt8])
    case otherError(type: String)

    func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        switch self {
        case .value(let json):
            bytes.append(0)
            bytes.append(contentsOf: json)
        case .codableError(let type, let json):
            bytes.append(2)
            BinaryValue.writeString(type, to: &bytes)
            BinaryValue.writeVarint(UInt64(json.count), to: &bytes)
            bytes.append(contentsOf: json)
        case .otherError(let type):
            bytes.append(3)
            BinaryValue.writeString(type, to: &bytes)
        }
        return bytes
    }

    static func decode(_ bytes: [UInt8]) throws(LocalityError) -> JSONInvocationReply {
        var reader = ByteReader(bytes)
        switch try reader.byte() {
        case 0:
            return .value(Array(bytes.dropFirst()))
        case 2:
            let type = try reader.string()
            let count = try reader.count()
            guard count == reader.remaining else { throw LocalityError(.badRequest, "error JSON length does not match the reply") }
            return .codableError(type: type, json: Array(bytes[(bytes.count - count)...]))
        case 3:
            let type = try reader.string()
            guard reader.remaining == 0 else { throw LocalityError(.badRequest, "bytes after the reply") }
            return .otherError(type: type)
        default:
            throw LocalityError(.badRequest, "unknown JSON reply status")
        }
    }

    /// What the caller of `ActorInvoker.invoke` gets: the JSON, or the method's error.
    func result() throws -> [UInt8] {
        switch self {
        case .value(let json): return json
        case .codableError(let type, let json): throw ActorMethodError(type: type, json: json)
        case .otherError(let type): throw ActorMethodError(type: type, json: nil)
        }
    }
}
