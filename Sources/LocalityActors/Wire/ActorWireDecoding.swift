import LocalityCore

/// The runtime's decoders of untrusted actor bytes, for fuzzers (`Fuzz/`) and tools that
/// check stored or captured bytes without an actor system.
///
/// Each function decodes exactly as the runtime does and answers the canonical
/// re-encoding of what it decoded, or throws `bad_request` (`payload_too_large` for JSON
/// arguments over the limit). None traps, whatever the input. Decoding the answer again
/// gives the same answer: the formats are canonical up to over-long varints.
public enum ActorWireDecoding {
    /// A `BinaryEncoder` value (the self-describing tagged tree), re-encoded.
    public static func binaryValue(_ bytes: [UInt8]) throws(LocalityError) -> [UInt8] {
        var reader = ByteReader(bytes)
        let value = try BinaryValue.read(from: &reader)
        guard reader.remaining == 0 else { throw LocalityError(.badRequest, "\(reader.remaining) bytes after the value") }
        var encoded: [UInt8] = []
        value.write(to: &encoded)
        return encoded
    }

    /// A routed call with binary arguments and its reply, as the owner and the caller read them, re-encoded.
    public static func invocation(_ bytes: [UInt8], isReply: Bool) throws(LocalityError) -> [UInt8] {
        isReply ? try InvocationReply.decode(bytes).encoded() : try InvocationMessage.decode(bytes).encoded()
    }

    /// A routed call with JSON arguments (`isReply` false) or its reply, re-encoded; a
    /// call's JSON arguments are also checked against its method name's labels, as the
    /// owner checks them before it activates the actor.
    public static func jsonInvocation(_ bytes: [UInt8], isReply: Bool) throws(LocalityError) -> [UInt8] {
        if isReply { return try JSONInvocationReply.decode(bytes).encoded() }
        let message = try JSONInvocationMessage.decode(bytes)
        _ = try JSONArguments(message.json, labels: JSONArguments.labels(ofStableName: message.method), method: message.method)
        return message.encoded()
    }

    /// JSON call arguments checked against `labels` (a method's argument labels, `_` for
    /// an unlabeled one) and each decoded as `T`, in parameter order.
    public static func jsonArguments<T: Decodable>(_ bytes: [UInt8], labels: [String], as type: T.Type) throws(LocalityError) -> [T] {
        let arguments = try JSONArguments(bytes, labels: labels, method: "fuzz")
        var values: [T] = []
        for index in labels.indices { values.append(try arguments.decode(type, at: index)) }
        return values
    }

    /// A stored actor state record as `PersistentState` writes it (the value alone, or
    /// the envelope with the idempotency ledger), re-encoded in the same form.
    public static func storedRecord(_ bytes: [UInt8]) throws(LocalityError) -> [UInt8] {
        guard bytes.first == StoredRecord.envelopeTag else { return bytes }
        let record = try StoredRecord(bytes)
        return StoredRecord.encode(value: record.value.map(Array.init), ledger: record.ledger)
    }
}
