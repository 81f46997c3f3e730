import LocalityCore
import Testing
@testable import LocalityActors

/// `ActorWireDecoding`, the public entry point the fuzz targets (Fuzz/) use: it decodes as
/// the runtime does and answers canonical bytes.
@Suite("ActorWireDecoding")
struct ActorWireDecodingTests {
    @Test("a stored record with a ledger, a value, calls and replies re-encode to their own bytes")
    func canonicalInputsReEncodeUnchanged() throws {
        let value = try BinaryEncoder().encode(WireTests.sample)
        let entries = [IdempotencyLedger.Entry(key: "k-1", at: 1_700_000_000_000, reply: [0] + Array("42".utf8), fingerprint: 99)]
        let record = StoredRecord.encode(value: value, ledger: entries)
        #expect(try ActorWireDecoding.storedRecord(record) == record)
        #expect(try ActorWireDecoding.storedRecord(value) == value)
        #expect(try ActorWireDecoding.binaryValue(value) == value)

        let call = InvocationMessage(
            chain: CallChainID(rawValue: 7), id: VirtualActorID(kind: "Counter", key: "a"), method: "add(by:)", arguments: [.int(-3)])
        #expect(try ActorWireDecoding.invocation(call.encoded(), isReply: false) == call.encoded())
        let reply = InvocationReply.codableError(type: "Oops", value: .string("no"))
        #expect(try ActorWireDecoding.invocation(reply.encoded(), isReply: true) == reply.encoded())

        let jsonCall = JSONInvocationMessage(
            chain: CallChainID(rawValue: 8), id: VirtualActorID(kind: "Counter", key: "a"), method: "add(by:)", json: Array(#"{"by":2}"#.utf8))
        #expect(try ActorWireDecoding.jsonInvocation(jsonCall.encoded(), isReply: false) == jsonCall.encoded())
        let jsonReply = JSONInvocationReply.codableError(type: "Oops", json: Array(#"{"why":1}"#.utf8))
        #expect(try ActorWireDecoding.jsonInvocation(jsonReply.encoded(), isReply: true) == jsonReply.encoded())
        #expect(try ActorWireDecoding.jsonArguments(Array(#"[1, 2]"#.utf8), labels: ["_", "_"], as: Int.self) == [1, 2])
    }

    @Test("bad input is bad_request: a truncated record, JSON arguments that do not match the labels")
    func badInputIsBadRequest() throws {
        let record = StoredRecord.encode(value: [1, 2, 3], ledger: [])
        for cut in 1..<record.count {
            #expect(throws: LocalityError.self) { try ActorWireDecoding.storedRecord(Array(record[..<cut])) }
        }
        #expect(throws: LocalityError.self) { try ActorWireDecoding.binaryValue([0, 0]) }
        let jsonCall = JSONInvocationMessage(
            chain: CallChainID(rawValue: 8), id: VirtualActorID(kind: "Counter", key: "a"), method: "add(by:)", json: Array(#"{"to":2}"#.utf8))
        #expect(throws: LocalityError.self) { try ActorWireDecoding.jsonInvocation(jsonCall.encoded(), isReply: false) }
        #expect(throws: LocalityError.self) { try ActorWireDecoding.jsonArguments(Array("[1]".utf8), labels: ["_", "_"], as: Int.self) }
        // Valid syntax, out of Double's range (found by scripts/fuzz json): bad_request, not a trap.
        let error = #expect(throws: LocalityError.self) {
            try ActorWireDecoding.jsonArguments(Array("[883e888888]".utf8), labels: ["_"], as: Double.self)
        }
        #expect(error?.code == .badRequest)
    }
}
