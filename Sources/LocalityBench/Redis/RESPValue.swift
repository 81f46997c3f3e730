/// One RESP2 value (the Redis serialization protocol, version 2).
public indirect enum RESPValue: Sendable, Equatable {
    /// `+OK\r\n`
    case simpleString(String)
    /// `-ERR message\r\n`
    case error(String)
    /// `:42\r\n`
    case integer(Int64)
    /// `$3\r\nfoo\r\n`; nil for the null bulk string `$-1\r\n`.
    case bulkString([UInt8]?)
    /// `*2\r\n…`; nil for the null array `*-1\r\n`.
    case array([RESPValue]?)

    /// The bulk string's UTF-8 text, or a simple string's text.
    public var text: String? {
        switch self {
        case .simpleString(let text): return text
        case .bulkString(let bytes?): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }

    /// The integer, or a bulk/simple string holding a decimal integer.
    public var int64: Int64? {
        switch self {
        case .integer(let value): return value
        default: return text.flatMap { Int64($0) }
        }
    }
}
