import NIOCore

/// The small header at the start of every `call` payload.
///
/// ```
/// u8 flags                      bit 0: deadline present, bit 1: traceparent present
/// [u32 deadline budget, ms]     time left for the call when it was sent
/// [u8 length | traceparent]     W3C trace context, e.g. "00-<trace id>-<span id>-01"
/// body                          the caller's bytes
/// ```
/// The deadline travels as a budget, not a wall-clock instant, so the two nodes need not
/// agree on the time; the server turns it back into a local deadline on receipt.
public struct CallHeader: Sendable, Equatable {
    /// Milliseconds the caller was still willing to wait when it sent the call.
    public var deadlineBudgetMilliseconds: UInt32?
    /// W3C `traceparent` of the calling span.
    public var traceparent: String?

    /// A header with an optional deadline budget and trace context.
    public init(deadlineBudgetMilliseconds: UInt32? = nil, traceparent: String? = nil) {
        self.deadlineBudgetMilliseconds = deadlineBudgetMilliseconds
        self.traceparent = traceparent
    }

    /// Longest traceparent carried, in bytes (the W3C version 00 form has 55).
    public static let maxTraceparentBytes = 255

    /// Bytes this header takes on the wire.
    public var wireSize: Int {
        1 + (deadlineBudgetMilliseconds == nil ? 0 : 4) + (traceparent.map { 1 + $0.utf8Prefix(maxBytes: Self.maxTraceparentBytes).count } ?? 0)
    }

    /// Appends the header (flags, then the fields present); a traceparent over `maxTraceparentBytes` is cut (between characters).
    public func write(to buffer: inout ByteBuffer) {
        var flags: UInt8 = 0
        if deadlineBudgetMilliseconds != nil { flags |= 1 }
        if traceparent != nil { flags |= 2 }
        buffer.writeInteger(flags)
        if let budget = deadlineBudgetMilliseconds { buffer.writeInteger(budget) }
        if let traceparent {
            let bytes = traceparent.utf8Prefix(maxBytes: Self.maxTraceparentBytes)
            buffer.writeInteger(UInt8(bytes.count))
            buffer.writeBytes(bytes)
        }
    }

    /// Decodes the header and leaves `buffer` at the body; nil when malformed.
    public static func read(from buffer: inout ByteBuffer) -> CallHeader? {
        guard let flags = buffer.readInteger(as: UInt8.self), flags & ~3 == 0 else { return nil }
        var header = CallHeader()
        if flags & 1 != 0 {
            guard let budget = buffer.readInteger(as: UInt32.self) else { return nil }
            header.deadlineBudgetMilliseconds = budget
        }
        if flags & 2 != 0 {
            guard let length = buffer.readInteger(as: UInt8.self),
                  let text = buffer.readString(length: Int(length)) else { return nil }
            header.traceparent = text
        }
        return header
    }
}
