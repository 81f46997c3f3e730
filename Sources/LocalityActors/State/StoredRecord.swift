import LocalityCore

/// The bytes `PersistentState` stores for one actor: its encoded value alone (the common
/// case, no idempotency keys to keep), or an envelope holding the value (if any) and the
/// actor's idempotency ledger:
///
/// `u8 0xE1 | u8 has value | [varint length | value] | ledger`
///
/// No `BinaryValue` starts with 0xE1 (its tags are 0…9), so the two forms never mix up.
struct StoredRecord {
    static let envelopeTag: UInt8 = 0xE1

    /// The encoded value; nil when the record keeps only keys (the state was cleared).
    var value: ArraySlice<UInt8>?
    var ledger: [IdempotencyLedger.Entry]

    init(_ bytes: [UInt8]) throws(LocalityError) {
        guard bytes.first == Self.envelopeTag else {
            self.value = bytes[...]
            self.ledger = []
            return
        }
        var reader = ByteReader(bytes, position: 1)
        switch try reader.byte() {
        case 0: value = nil
        case 1: value = try reader.take(try reader.count())
        default: throw LocalityError(.badRequest, "bad stored state record")
        }
        ledger = try IdempotencyLedger.Entry.decode(from: &reader)
        guard reader.remaining == 0 else { throw LocalityError(.badRequest, "bytes after the stored state record") }
    }

    static func encode(value: [UInt8]?, ledger: [IdempotencyLedger.Entry]) -> [UInt8] {
        var bytes: [UInt8] = [envelopeTag]
        if let value {
            bytes.append(1)
            BinaryValue.writeVarint(UInt64(value.count), to: &bytes)
            bytes.append(contentsOf: value)
        } else {
            bytes.append(0)
        }
        IdempotencyLedger.Entry.encode(ledger, into: &bytes)
        return bytes
    }
}
