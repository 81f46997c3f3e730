import LocalityCore
import LocalityPlacement
import NIOCore

/// What directory services say to each other inside a transport call (docs/placement.md,
/// "The directory over the network"):
/// `u8 service tag (0xD1) | u8 kind | body`, all integers big-endian.
///
/// Bodies: strings are `u16 length | UTF-8` (error codes `u8 length | UTF-8`); a node is
/// `name | u64 uid`; an address is `node | u64 epoch`; an optional node is `u8 0` or
/// `u8 1 | node`; a hand-off is `target | u32 count | count × (key | address)`.
///
/// Decoding is total: any malformed, truncated or over-long input, or trailing bytes,
/// gives `LocalityError(.badRequest)`; nothing traps and no allocation is sized by an
/// unchecked length.
public enum DirectoryMessage: Hashable, Sendable {
    /// A request for the partition that owns its key.
    case request(DirectoryRequest)
    /// The partition's answer.
    case reply(DirectoryReply)
    /// Entries whose partition moved to the receiver.
    case handOff(DirectoryHandOff)
    /// The receiver merged a hand-off; `conflicts` handed-off activations lost to an entry
    /// it already had (it reports them to its own conflict observer).
    case handOffAccepted(conflicts: Int)

    /// First byte of every directory payload; distinct from the router's envelope version
    /// (1), so one transport serves both (`TransportServiceMux`).
    public static let serviceTag: UInt8 = 0xD1
    /// Longest key or node name on the wire, in bytes.
    public static let maxStringBytes = Int(UInt16.max)
    /// Most entries one hand-off message may carry.
    public static let maxHandOffEntries = 1 << 20

    private enum Kind: UInt8 {
        case request = 1, reply = 2, handOff = 3, handOffAccepted = 4
    }

    private enum RequestKind: UInt8 {
        case lookup = 1, register = 2, unregister = 3, move = 4
    }

    private enum ReplyKind: UInt8 {
        case found = 1, notFound = 2, registered = 3, unregistered = 4, moved = 5, rejected = 6
    }

    /// The message on the wire. Throws `bad_request` when a key or node name is longer
    /// than `maxStringBytes` or a hand-off holds more than `maxHandOffEntries` entries
    /// (nothing is truncated silently).
    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(LocalityError) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        buffer.writeInteger(Self.serviceTag)
        switch self {
        case .request(let request):
            buffer.writeInteger(Kind.request.rawValue)
            try Self.write(request, into: &buffer)
        case .reply(let reply):
            buffer.writeInteger(Kind.reply.rawValue)
            try Self.write(reply, into: &buffer)
        case .handOff(let handOff):
            buffer.writeInteger(Kind.handOff.rawValue)
            guard handOff.entries.count <= Self.maxHandOffEntries else {
                throw LocalityError(.badRequest, "hand-off of \(handOff.entries.count) entries exceeds \(Self.maxHandOffEntries)")
            }
            try Self.write(handOff.target, into: &buffer)
            buffer.writeInteger(UInt32(handOff.entries.count))
            for entry in handOff.entries {
                try Self.write(entry.key, into: &buffer)
                try Self.write(entry.address, into: &buffer)
            }
        case .handOffAccepted(let conflicts):
            buffer.writeInteger(Kind.handOffAccepted.rawValue)
            buffer.writeInteger(UInt32(clamping: conflicts))
        }
        return buffer
    }

    /// Decodes one message; throws `bad_request` when malformed.
    public static func decode(_ buffer: ByteBuffer) throws(LocalityError) -> DirectoryMessage {
        var buffer = buffer
        guard buffer.readInteger(as: UInt8.self) == serviceTag,
              let kindByte = buffer.readInteger(as: UInt8.self), let kind = Kind(rawValue: kindByte)
        else { throw malformed("not a directory message") }
        let message: DirectoryMessage
        switch kind {
        case .request: message = .request(try readRequest(&buffer))
        case .reply: message = .reply(try readReply(&buffer))
        case .handOff: message = .handOff(try readHandOff(&buffer))
        case .handOffAccepted:
            guard let conflicts = buffer.readInteger(as: UInt32.self) else { throw malformed("truncated hand-off answer") }
            message = .handOffAccepted(conflicts: Int(conflicts))
        }
        guard buffer.readableBytes == 0 else { throw malformed("\(buffer.readableBytes) trailing bytes") }
        return message
    }

    // MARK: Writing

    private static func write(_ request: DirectoryRequest, into buffer: inout ByteBuffer) throws(LocalityError) {
        switch request {
        case .lookup(let key):
            buffer.writeInteger(RequestKind.lookup.rawValue)
            try write(key, into: &buffer)
        case .register(let key, let address):
            buffer.writeInteger(RequestKind.register.rawValue)
            try write(key, into: &buffer)
            try write(address, into: &buffer)
        case .unregister(let key, let address):
            buffer.writeInteger(RequestKind.unregister.rawValue)
            try write(key, into: &buffer)
            try write(address, into: &buffer)
        case .move(let key, let address):
            buffer.writeInteger(RequestKind.move.rawValue)
            try write(key, into: &buffer)
            try write(address, into: &buffer)
        }
    }

    private static func write(_ reply: DirectoryReply, into buffer: inout ByteBuffer) throws(LocalityError) {
        switch reply {
        case .found(let address):
            buffer.writeInteger(ReplyKind.found.rawValue)
            try write(address, into: &buffer)
        case .notFound:
            buffer.writeInteger(ReplyKind.notFound.rawValue)
        case .registered(let address):
            buffer.writeInteger(ReplyKind.registered.rawValue)
            try write(address, into: &buffer)
        case .unregistered(let removed):
            buffer.writeInteger(ReplyKind.unregistered.rawValue)
            buffer.writeInteger(UInt8(removed ? 1 : 0))
        case .moved(let from):
            buffer.writeInteger(ReplyKind.moved.rawValue)
            try write(from, into: &buffer)
        case .rejected(let code, let owner):
            buffer.writeInteger(ReplyKind.rejected.rawValue)
            let codeBytes = Array(code.rawValue.utf8)
            buffer.writeInteger(UInt8(clamping: codeBytes.count))
            buffer.writeBytes(codeBytes.prefix(Int(UInt8.max)))
            if let owner {
                buffer.writeInteger(UInt8(1))
                try write(owner, into: &buffer)
            } else {
                buffer.writeInteger(UInt8(0))
            }
        }
    }

    private static func write(_ string: String, into buffer: inout ByteBuffer) throws(LocalityError) {
        let bytes = string.utf8
        guard bytes.count <= maxStringBytes else {
            throw LocalityError(.badRequest, "key or name of \(bytes.count) bytes exceeds \(maxStringBytes)")
        }
        buffer.writeInteger(UInt16(bytes.count))
        buffer.writeBytes(bytes)
    }

    private static func write(_ node: NodeID, into buffer: inout ByteBuffer) throws(LocalityError) {
        try write(node.name, into: &buffer)
        buffer.writeInteger(node.uid)
    }

    private static func write(_ address: ActivationAddress, into buffer: inout ByteBuffer) throws(LocalityError) {
        try write(address.node, into: &buffer)
        buffer.writeInteger(address.epoch)
    }

    // MARK: Reading

    private static func malformed(_ detail: String) -> LocalityError {
        LocalityError(.badRequest, "malformed directory message: \(detail)")
    }

    private static func readRequest(_ buffer: inout ByteBuffer) throws(LocalityError) -> DirectoryRequest {
        guard let byte = buffer.readInteger(as: UInt8.self), let kind = RequestKind(rawValue: byte) else {
            throw malformed("unknown request kind")
        }
        let key = try readString(&buffer)
        switch kind {
        case .lookup: return .lookup(key: key)
        case .register: return .register(key: key, address: try readAddress(&buffer))
        case .unregister: return .unregister(key: key, address: try readAddress(&buffer))
        case .move: return .move(key: key, to: try readAddress(&buffer))
        }
    }

    private static func readReply(_ buffer: inout ByteBuffer) throws(LocalityError) -> DirectoryReply {
        guard let byte = buffer.readInteger(as: UInt8.self), let kind = ReplyKind(rawValue: byte) else {
            throw malformed("unknown reply kind")
        }
        switch kind {
        case .found: return .found(try readAddress(&buffer))
        case .notFound: return .notFound
        case .registered: return .registered(try readAddress(&buffer))
        case .unregistered:
            guard let flag = buffer.readInteger(as: UInt8.self), flag <= 1 else { throw malformed("bad unregister flag") }
            return .unregistered(removed: flag == 1)
        case .moved: return .moved(from: try readAddress(&buffer))
        case .rejected:
            guard let length = buffer.readInteger(as: UInt8.self), let text = buffer.readString(length: Int(length)),
                  let code = LocalityError.Code(rawValue: text)
            else { throw malformed("bad error code") }
            guard let flag = buffer.readInteger(as: UInt8.self), flag <= 1 else { throw malformed("bad owner flag") }
            return .rejected(code, owner: flag == 1 ? try readNode(&buffer) : nil)
        }
    }

    private static func readHandOff(_ buffer: inout ByteBuffer) throws(LocalityError) -> DirectoryHandOff {
        let target = try readNode(&buffer)
        guard let count = buffer.readInteger(as: UInt32.self), Int(count) <= maxHandOffEntries else {
            throw malformed("bad hand-off entry count")
        }
        // Smallest entry: empty key (2) + empty name (2) + uid (8) + epoch (8) = 20 bytes.
        guard Int(count) <= buffer.readableBytes / 20 else { throw malformed("hand-off shorter than its entry count") }
        var entries: [DirectoryEntry] = []
        entries.reserveCapacity(Int(count))
        for _ in 0..<count {
            let key = try readString(&buffer)
            entries.append(DirectoryEntry(key: key, address: try readAddress(&buffer)))
        }
        return DirectoryHandOff(target: target, entries: entries)
    }

    private static func readString(_ buffer: inout ByteBuffer) throws(LocalityError) -> String {
        guard let length = buffer.readInteger(as: UInt16.self), let bytes = buffer.readBytes(length: Int(length)) else {
            throw malformed("truncated string")
        }
        guard let string = String(validating: bytes, as: UTF8.self) else { throw malformed("string is not UTF-8") }
        return string
    }

    private static func readNode(_ buffer: inout ByteBuffer) throws(LocalityError) -> NodeID {
        let name = try readString(&buffer)
        guard let uid = buffer.readInteger(as: UInt64.self) else { throw malformed("truncated node id") }
        return NodeID(name: name, uid: uid)
    }

    private static func readAddress(_ buffer: inout ByteBuffer) throws(LocalityError) -> ActivationAddress {
        let node = try readNode(&buffer)
        guard let epoch = buffer.readInteger(as: UInt64.self) else { throw malformed("truncated activation epoch") }
        return ActivationAddress(node: node, epoch: epoch)
    }
}
