import LocalityCore

/// A call on a virtual actor as it travels between nodes (inside a routed request):
///
/// `u8 version | u64 call chain (LE) | kind | key | method | varint count | arguments`
///
/// where kind, key and method are varint-length UTF-8 strings, the method is its stable
/// name (`increment(by:)`, never the mangled symbol), and each argument is one
/// `BinaryValue`. Arguments carry no type names: the receiver decodes each into the
/// parameter type of the method it resolved from (kind, method).
struct InvocationMessage: Equatable, Sendable {
    static let version: UInt8 = 1
    /// Most arguments accepted in one call.
    static let maxArguments = 64

    var chain: CallChainID
    var id: VirtualActorID
    var method: String
    var arguments: [BinaryValue]

    func encoded() -> [UInt8] {
        var bytes: [UInt8] = [Self.version]
        withUnsafeBytes(of: chain.rawValue.littleEndian) { bytes.append(contentsOf: $0) }
        BinaryValue.writeString(id.kind, to: &bytes)
        BinaryValue.writeString(id.key, to: &bytes)
        BinaryValue.writeString(method, to: &bytes)
        BinaryValue.writeVarint(UInt64(arguments.count), to: &bytes)
        for argument in arguments { argument.write(to: &bytes) }
        return bytes
    }

    static func decode(_ bytes: [UInt8]) throws(LocalityError) -> InvocationMessage {
        var reader = ByteReader(bytes)
        guard try reader.byte() == version else { throw LocalityError(.badRequest, "unknown invocation version") }
        let chain = CallChainID(rawValue: try reader.fixed(UInt64.self))
        let kind = try reader.string()
        let key = try reader.string()
        let method = try reader.string()
        let count = try reader.count()
        guard count <= maxArguments else { throw LocalityError(.badRequest, "\(count) arguments, at most \(maxArguments)") }
        var arguments: [BinaryValue] = []
        for _ in 0..<count { arguments.append(try BinaryValue.read(from: &reader)) }
        guard reader.remaining == 0 else { throw LocalityError(.badRequest, "bytes after the last argument") }
        return InvocationMessage(chain: chain, id: VirtualActorID(kind: kind, key: key), method: method, arguments: arguments)
    }
}

/// The answer to an `InvocationMessage` when the method ran (runtime failures and
/// `LocalityError`s thrown by the method travel as transport error frames instead):
///
/// `u8 status | body`: 0 value (`BinaryValue`), 1 void, 2 allowed Codable error
/// (type name, `BinaryValue`), 3 any other error (type name only).
enum InvocationReply: Equatable, Sendable {
    case value(BinaryValue)
    case void
    case codableError(type: String, value: BinaryValue)
    case otherError(type: String)

    func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        switch self {
        case .value(let value):
            bytes.append(0)
            value.write(to: &bytes)
        case .void:
            bytes.append(1)
        case .codableError(let type, let value):
            bytes.append(2)
            BinaryValue.writeString(type, to: &bytes)
            value.write(to: &bytes)
        case .otherError(let type):
            bytes.append(3)
            BinaryValue.writeString(type, to: &bytes)
        }
        return bytes
    }

    static func decode(_ bytes: [UInt8]) throws(LocalityError) -> InvocationReply {
        var reader = ByteReader(bytes)
        let reply: InvocationReply
        switch try reader.byte() {
        case 0: reply = .value(try BinaryValue.read(from: &reader))
        case 1: reply = .void
        case 2: reply = .codableError(type: try reader.string(), value: try BinaryValue.read(from: &reader))
        case 3: reply = .otherError(type: try reader.string())
        default: throw LocalityError(.badRequest, "unknown reply status")
        }
        guard reader.remaining == 0 else { throw LocalityError(.badRequest, "bytes after the reply") }
        return reply
    }
}

/// What a caller gets when the remote method threw an error that is not a
/// `LocalityError` and whose type is not on the system's remote-error allow-list.
public struct GenericRemoteError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The thrown error's type, as `String(reflecting:)` printed it on the callee.
    public var typeName: String

    /// The error of a remote method whose type is `typeName`.
    public init(typeName: String) {
        self.typeName = typeName
    }

    /// `remote call threw <type>`.
    public var description: String { "remote call threw \(typeName)" }
}
