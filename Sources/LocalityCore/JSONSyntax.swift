/// Checks that bytes are one JSON object or array (RFC 8259 syntax) without building
/// anything: a single pass, no allocation, nesting bounded by `maxDepth`; and finds the
/// top-level members of one, so each can be decoded on its own.
///
/// The gateway runs it on every call body so that malformed JSON is refused with 400
/// before the call is routed; the owner splits the arguments with `topLevel(_:)` and
/// decodes each from its own bytes.
public enum JSONSyntax {
    /// Deepest nesting accepted (a deeper body is refused, like malformed JSON).
    public static let maxDepth = 512

    /// The top-level members of a JSON object or array: the byte range of each value
    /// (and, for an object, its key; a repeated key keeps its last value).
    public enum TopLevel: Equatable, Sendable {
        /// An object: each key and its value's byte range.
        case object([String: Range<Int>])
        /// An array: each element's byte range, in order.
        case array([Range<Int>])
    }

    /// Whether `bytes` holds exactly one JSON object or array, with optional whitespace around.
    public static func isObjectOrArray(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { buffer in
            var scanner = Scanner(bytes: buffer)
            scanner.skipWhitespace()
            guard let first = scanner.peek(), first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { return false }
            guard scanner.value(depth: 0) else { return false }
            scanner.skipWhitespace()
            return scanner.index == buffer.count
        }
    }

    /// Whether `bytes` holds exactly one JSON value of any kind (a number, a string, …).
    public static func isValue(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { buffer in
            var scanner = Scanner(bytes: buffer)
            scanner.skipWhitespace()
            guard scanner.value(depth: 0) else { return false }
            scanner.skipWhitespace()
            return scanner.index == buffer.count
        }
    }

    /// The members of the object or array `bytes` holds; nil when it is not exactly one
    /// valid JSON object or array.
    public static func topLevel(_ bytes: [UInt8]) -> TopLevel? {
        bytes.withUnsafeBufferPointer { buffer -> TopLevel? in
            var scanner = Scanner(bytes: buffer)
            scanner.skipWhitespace()
            let result: TopLevel
            switch scanner.peek() {
            case UInt8(ascii: "{"):
                guard let members = scanner.objectMembers() else { return nil }
                result = .object(members)
            case UInt8(ascii: "["):
                guard let elements = scanner.arrayElements() else { return nil }
                result = .array(elements)
            default:
                return nil
            }
            scanner.skipWhitespace()
            return scanner.index == buffer.count ? result : nil
        }
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
                index += 1
            }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func value(depth: Int) -> Bool {
            guard depth < JSONSyntax.maxDepth, let byte = peek() else { return false }
            switch byte {
            case UInt8(ascii: "{"): return object(depth: depth + 1)
            case UInt8(ascii: "["): return array(depth: depth + 1)
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: return number()
            }
        }

        mutating func object(depth: Int) -> Bool {
            index += 1
            skipWhitespace()
            if consume(UInt8(ascii: "}")) { return true }
            while true {
                skipWhitespace()
                guard peek() == UInt8(ascii: "\""), string() else { return false }
                skipWhitespace()
                guard consume(UInt8(ascii: ":")) else { return false }
                skipWhitespace()
                guard value(depth: depth) else { return false }
                skipWhitespace()
                if consume(UInt8(ascii: ",")) { continue }
                return consume(UInt8(ascii: "}"))
            }
        }

        /// The top-level object at `index`: each key and its value's byte range.
        mutating func objectMembers() -> [String: Range<Int>]? {
            index += 1
            var members: [String: Range<Int>] = [:]
            skipWhitespace()
            if consume(UInt8(ascii: "}")) { return members }
            while true {
                skipWhitespace()
                let keyStart = index
                guard peek() == UInt8(ascii: "\""), string() else { return nil }
                guard let key = Self.key(bytes[keyStart..<index]) else { return nil }
                skipWhitespace()
                guard consume(UInt8(ascii: ":")) else { return nil }
                skipWhitespace()
                let valueStart = index
                guard value(depth: 1) else { return nil }
                members[key] = valueStart..<index
                skipWhitespace()
                if consume(UInt8(ascii: ",")) { continue }
                return consume(UInt8(ascii: "}")) ? members : nil
            }
        }

        /// The top-level array at `index`: each element's byte range.
        mutating func arrayElements() -> [Range<Int>]? {
            index += 1
            var elements: [Range<Int>] = []
            skipWhitespace()
            if consume(UInt8(ascii: "]")) { return elements }
            while true {
                skipWhitespace()
                let start = index
                guard value(depth: 1) else { return nil }
                elements.append(start..<index)
                skipWhitespace()
                if consume(UInt8(ascii: ",")) { continue }
                return consume(UInt8(ascii: "]")) ? elements : nil
            }
        }

        /// A key's text from its quoted, checked bytes (escapes decoded).
        static func key(_ quoted: Slice<UnsafeBufferPointer<UInt8>>) -> String? {
            let inner = quoted.dropFirst().dropLast()
            guard inner.contains(UInt8(ascii: "\\")) else { return String(decoding: inner, as: UTF8.self) }
            var text = ""
            var units: [UInt16] = []
            var position = inner.startIndex
            func flushUnits() {
                if !units.isEmpty {
                    text += String(decoding: units, as: UTF16.self)
                    units.removeAll()
                }
            }
            var plain: [UInt8] = []
            while position < inner.endIndex {
                let byte = inner[position]
                guard byte == UInt8(ascii: "\\") else {
                    flushUnits()
                    plain.append(byte)
                    position += 1
                    continue
                }
                if !plain.isEmpty {
                    text += String(decoding: plain, as: UTF8.self)
                    plain.removeAll()
                }
                let escaped = inner[position + 1]
                position += 2
                let simple: UInt8?
                switch escaped {
                case UInt8(ascii: "b"): simple = 0x08
                case UInt8(ascii: "f"): simple = 0x0C
                case UInt8(ascii: "n"): simple = 0x0A
                case UInt8(ascii: "r"): simple = 0x0D
                case UInt8(ascii: "t"): simple = 0x09
                case UInt8(ascii: "u"):
                    var unit: UInt16 = 0
                    for offset in 0..<4 { unit = unit << 4 | UInt16(inner[position + offset].hexValue) }
                    position += 4
                    units.append(unit)
                    continue
                default: simple = escaped
                }
                flushUnits()
                if let simple { plain.append(simple) }
            }
            flushUnits()
            if !plain.isEmpty { text += String(decoding: plain, as: UTF8.self) }
            return text
        }

        mutating func array(depth: Int) -> Bool {
            index += 1
            skipWhitespace()
            if consume(UInt8(ascii: "]")) { return true }
            while true {
                skipWhitespace()
                guard value(depth: depth) else { return false }
                skipWhitespace()
                if consume(UInt8(ascii: ",")) { continue }
                return consume(UInt8(ascii: "]"))
            }
        }

        mutating func string() -> Bool {
            index += 1
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return true
                case UInt8(ascii: "\\"):
                    guard let escaped = peek() else { return false }
                    index += 1
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                         UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        continue
                    case UInt8(ascii: "u"):
                        // A UTF-16 surrogate must come as a high-low pair, as a decoder requires.
                        guard let unit = hexUnit() else { return false }
                        if (0xDC00...0xDFFF).contains(unit) { return false }
                        if (0xD800...0xDBFF).contains(unit) {
                            guard consume(UInt8(ascii: "\\")), consume(UInt8(ascii: "u")), let low = hexUnit(),
                                  (0xDC00...0xDFFF).contains(low)
                            else { return false }
                        }
                    default: return false
                    }
                case 0..<0x20: return false
                case 0x80...: guard utf8Sequence(lead: byte) else { return false }
                default: continue
                }
            }
            return false
        }

        /// The continuation bytes after `lead` form one well-formed UTF-8 scalar (no
        /// overlong form, no surrogate, at most U+10FFFF).
        mutating func utf8Sequence(lead: UInt8) -> Bool {
            let count: Int
            var range: ClosedRange<UInt8> = 0x80...0xBF
            switch lead {
            case 0xC2...0xDF: count = 1
            case 0xE0: (count, range) = (2, 0xA0...0xBF)
            case 0xE1...0xEC, 0xEE...0xEF: count = 2
            case 0xED: (count, range) = (2, 0x80...0x9F)
            case 0xF0: (count, range) = (3, 0x90...0xBF)
            case 0xF1...0xF3: count = 3
            case 0xF4: (count, range) = (3, 0x80...0x8F)
            default: return false
            }
            for offset in 0..<count {
                guard let next = peek(), (offset == 0 ? range : 0x80...0xBF).contains(next) else { return false }
                index += 1
            }
            return true
        }

        /// Four hex digits, as a UTF-16 code unit.
        mutating func hexUnit() -> UInt16? {
            var unit: UInt16 = 0
            for _ in 0..<4 {
                guard let hex = peek(), hex.isHexDigit else { return nil }
                index += 1
                unit = unit << 4 | UInt16(hex.hexValue)
            }
            return unit
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
            index += count
            return true
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        mutating func number() -> Bool {
            _ = consume(UInt8(ascii: "-"))
            guard let first = peek(), first.isDigit else { return false }
            index += 1
            if first != UInt8(ascii: "0") { skipDigits() }
            if consume(UInt8(ascii: ".")) {
                guard let digit = peek(), digit.isDigit else { return false }
                skipDigits()
            }
            if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
                if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
                guard let digit = peek(), digit.isDigit else { return false }
                skipDigits()
            }
            return true
        }

        mutating func skipDigits() {
            while let byte = peek(), byte.isDigit { index += 1 }
        }
    }
}

extension UInt8 {
    fileprivate var isDigit: Bool { self >= 0x30 && self <= 0x39 }
    fileprivate var isHexDigit: Bool { isDigit || (self >= 0x41 && self <= 0x46) || (self >= 0x61 && self <= 0x66) }
    fileprivate var hexValue: UInt8 { isDigit ? self - 0x30 : (self | 0x20) - 0x61 + 10 }
}
