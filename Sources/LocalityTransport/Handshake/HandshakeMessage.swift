import LocalityCore
import NIOCore

/// What one side says about itself when a connection opens.
public struct HandshakeHello: Sendable, Equatable {
    /// Wire protocol version the sender speaks.
    public var version: UInt8
    /// The sender's node identity.
    public var node: NodeID
    /// The sender's incarnation (raised by the node itself, as in SWIM).
    public var incarnation: UInt64
    /// Fresh random bytes; the other side's proof must cover them, so an old proof
    /// cannot be replayed.
    public var nonce: [UInt8]

    /// A hello from `node` speaking `version`, with a fresh `nonce`.
    public init(version: UInt8, node: NodeID, incarnation: UInt64, nonce: [UInt8]) {
        self.version = version
        self.node = node
        self.incarnation = incarnation
        self.nonce = nonce
    }
}

/// The four handshake steps, each carried in one `handshake` frame (request id 0).
///
/// ```
/// client → server  hello(client hello)          step 1: version, id, nonce C
/// server → client  helloReply(server hello)     step 2: version, id, nonce S
/// client → server  proof(client proof)          step 3: HMAC over client hello + nonce S
/// server → client  accept(server proof)         step 4: HMAC over server hello + nonce C
/// ```
/// The server checks the client's proof first, so a client without the key is refused
/// (and counted) by the server; the client then checks the server's proof, so a server
/// without the key cannot pose as a member either. Both proofs cover the other side's
/// fresh nonce: a recorded handshake cannot be replayed. The handshake authenticates
/// membership; it does not encrypt the connection.
/// Payload: `u8 step | fields`; a hello is `u8 version | u8 name length | name (valid UTF-8) |
/// u64 uid | u64 incarnation | u8 nonce length | nonce`; a proof is `u8 length | bytes`.
public enum HandshakeMessage: Sendable, Equatable {
    /// Step 1: the client's hello.
    case hello(HandshakeHello)
    /// Step 2: the server's hello.
    case helloReply(HandshakeHello)
    /// Step 3: the client's proof of the cluster key, over its hello and the server's nonce.
    case proof([UInt8])
    /// Step 4: the server's proof, over its hello and the client's nonce.
    case accept(proof: [UInt8])

    /// Longest node name on the wire, in bytes.
    public static let maxNameBytes = 255
    /// Longest nonce or proof on the wire, in bytes.
    public static let maxBlobBytes = 64

    /// Appends the payload of the message's handshake frame (`u8 step | fields`).
    public func write(to buffer: inout ByteBuffer) {
        switch self {
        case .hello(let hello):
            buffer.writeInteger(UInt8(1))
            Self.write(hello, to: &buffer)
        case .helloReply(let hello):
            buffer.writeInteger(UInt8(2))
            Self.write(hello, to: &buffer)
        case .proof(let proof):
            buffer.writeInteger(UInt8(3))
            Self.writeBlob(proof, to: &buffer)
        case .accept(let proof):
            buffer.writeInteger(UInt8(4))
            Self.writeBlob(proof, to: &buffer)
        }
    }

    /// Decodes a handshake payload; nil when malformed.
    public static func read(from buffer: inout ByteBuffer) -> HandshakeMessage? {
        guard let step = buffer.readInteger(as: UInt8.self) else { return nil }
        switch step {
        case 1:
            return readHello(from: &buffer).map { .hello($0) }
        case 2:
            return readHello(from: &buffer).map { .helloReply($0) }
        case 3:
            return readBlob(from: &buffer).map { .proof($0) }
        case 4:
            return readBlob(from: &buffer).map { .accept(proof: $0) }
        default:
            return nil
        }
    }

    private static func write(_ hello: HandshakeHello, to buffer: inout ByteBuffer) {
        buffer.writeInteger(hello.version)
        let name = Array(hello.node.name.utf8.prefix(maxNameBytes))
        buffer.writeInteger(UInt8(name.count))
        buffer.writeBytes(name)
        buffer.writeInteger(hello.node.uid)
        buffer.writeInteger(hello.incarnation)
        writeBlob(hello.nonce, to: &buffer)
    }

    private static func writeBlob(_ bytes: [UInt8], to buffer: inout ByteBuffer) {
        let kept = bytes.prefix(maxBlobBytes)
        buffer.writeInteger(UInt8(kept.count))
        buffer.writeBytes(kept)
    }

    private static func readHello(from buffer: inout ByteBuffer) -> HandshakeHello? {
        guard let version = buffer.readInteger(as: UInt8.self),
              let nameLength = buffer.readInteger(as: UInt8.self),
              // Invalid UTF-8 is malformed: read with replacement, a name could grow past 255
              // bytes and not survive re-encoding (found with the handshake fuzz target).
              let nameBytes = buffer.readBytes(length: Int(nameLength)),
              let name = String(validating: nameBytes, as: UTF8.self),
              let uid = buffer.readInteger(as: UInt64.self),
              let incarnation = buffer.readInteger(as: UInt64.self),
              let nonce = readBlob(from: &buffer)
        else { return nil }
        return HandshakeHello(version: version, node: NodeID(name: name, uid: uid), incarnation: incarnation, nonce: nonce)
    }

    private static func readBlob(from buffer: inout ByteBuffer) -> [UInt8]? {
        guard let length = buffer.readInteger(as: UInt8.self), Int(length) <= maxBlobBytes else { return nil }
        return buffer.readBytes(length: Int(length))
    }
}
