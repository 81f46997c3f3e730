import Foundation
import LocalityCore
import LocalityExamples
import LocalityStorage
import Synchronization
import Testing
@testable import LocalityActors

/// Calls retried under an `Idempotency-Key`: run at most once, answer the first outcome,
/// remembered with the actor's state wherever it is activated next.
@Suite("Idempotent calls")
struct IdempotencyTests {
    static func system(_ store: any StateStore, uid: UInt64 = 1, settings: ActorSettings = ActorSettings()) throws -> ClusterSystem {
        let system = ClusterSystem(node: NodeID(name: "i\(uid)", uid: uid), settings: settings, stateStore: store)
        try ExampleKinds.register(on: system)
        return system
    }

    static func increment(_ system: ClusterSystem, _ counter: String = "c", by amount: Int = 1, key: String?) async throws -> String {
        let bytes = try await system.invoke(
            kind: "counter", key: counter, method: "increment", arguments: Array("{\"by\":\(amount)}".utf8), timeout: .seconds(10),
            idempotencyKey: try key.map { key throws(LocalityError) in try IdempotencyKey(validating: key) })
        return String(decoding: bytes, as: UTF8.self)
    }

    static func stored(_ store: any StateStore, _ counter: String = "c") async throws -> Int? {
        try await store.read(StateKey(kind: "counter", id: counter)).value.flatMap { try PersistentState<Int>.value(fromStored: $0) }
    }

    static func code(_ body: () async throws -> String) async -> LocalityError.Code? {
        do {
            _ = try await body()
            return nil
        } catch let error as LocalityError {
            return error.code
        } catch {
            return nil
        }
    }

    @Test("a call retried under its key runs once and answers its first result")
    func retriedCallRunsOnce() async throws {
        let store = MemoryStateStore()
        let system = try Self.system(store)
        #expect(try await Self.increment(system, by: 2, key: "k1") == "2")
        #expect(try await Self.increment(system, by: 2, key: "k1") == "2")
        #expect(try await Self.increment(system, by: 2, key: "k1") == "2")
        #expect(try await Self.stored(store) == 2)
        #expect(try await Self.increment(system, by: 2, key: "k2") == "4")
        #expect(try await Self.increment(system, by: 2, key: nil) == "6")
        #expect(try await Self.increment(system, by: 2, key: nil) == "8")
        #expect(try await Self.stored(store) == 8)
        // The same key on another actor is another call.
        #expect(try await Self.increment(system, "other", by: 5, key: "k1") == "5")
        await system.shutdown()
    }

    @Test("a method's error that changed nothing: the retry runs again and changes nothing either")
    func methodErrorsReplay() async throws {
        let store = MemoryStateStore()
        let system = try Self.system(store)
        _ = try await Self.increment(system, by: Int.max, key: nil)
        for _ in 0..<2 {
            do {
                _ = try await Self.increment(system, by: 1, key: "over")
                Issue.record("no overflow error")
            } catch let error as ActorMethodError {
                #expect(error.type == "Counter.CounterError")
            }
        }
        #expect(try await Self.stored(store) == Int.max)
        await system.shutdown()
    }

    @Test("after its node died, a retry finds the key in the store: never a second run")
    func keysTravelWithTheState() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("idem-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await SQLiteStateStore.open(path: directory.appendingPathComponent("state.sqlite").path)

        // Node A runs k1 and "dies": no deactivation, no later write.
        let first = try Self.system(store, uid: 1)
        #expect(try await Self.increment(first, by: 3, key: "k1") == "3")

        // Node B activates the counter afresh: k1 committed with the value, its result
        // never written: already_applied, and the total is unchanged.
        let second = try Self.system(store, uid: 2)
        #expect(await Self.code { try await Self.increment(second, by: 3, key: "k1") } == .alreadyApplied)
        #expect(try await Self.stored(store) == 3)
        #expect(try await Self.increment(second, by: 1, key: "k2") == "4")
        // k3's commit also stores k2's result.
        #expect(try await Self.increment(second, by: 1, key: "k3") == "5")

        let third = try Self.system(store, uid: 3)
        #expect(try await Self.increment(third, by: 1, key: "k2") == "4")
        #expect(await Self.code { try await Self.increment(third, by: 1, key: "k3") } == .alreadyApplied)
        #expect(await Self.code { try await Self.increment(third, by: 3, key: "k1") } == .alreadyApplied)
        #expect(try await Self.increment(third, by: 1, key: nil) == "6")
        #expect(try await Self.stored(store) == 6)
        for system in [first, second, third] { await system.shutdown() }
        try await store.close()
    }

    @Test("a key sent again with another call is refused, not answered with the first call's result")
    func aKeyNamesOneCall() async throws {
        let store = MemoryStateStore()
        let system = try Self.system(store)
        #expect(try await Self.increment(system, by: 2, key: "k") == "2")
        #expect(await Self.code { try await Self.increment(system, by: 3, key: "k") } == .badRequest)
        #expect(try await Self.stored(store) == 2)
        await system.shutdown()
    }

    @Test("read-only keyed calls run again and take no place from calls that changed state")
    func readsAreNotRemembered() async throws {
        var settings = ActorSettings()
        settings.idempotency.keysPerActor = 2
        let store = MemoryStateStore()
        let system = try Self.system(store, settings: settings)
        #expect(try await Self.increment(system, by: 1, key: "w") == "1")
        for index in 0..<5 {
            let value = try await system.invoke(
                kind: "counter", key: "c", method: "value", arguments: [], timeout: .seconds(5),
                idempotencyKey: try IdempotencyKey(validating: "r\(index)"))
            #expect(String(decoding: value, as: UTF8.self) == "1")
        }
        #expect(try await Self.increment(system, by: 1, key: "w") == "1")
        #expect(try await Self.stored(store) == 1)
        await system.shutdown()
    }

    @Test("keys past the per-actor bound are forgotten, oldest first, and counted")
    func boundedKeys() async throws {
        var settings = ActorSettings()
        settings.idempotency.keysPerActor = 3
        let store = MemoryStateStore()
        let system = try Self.system(store, settings: settings)
        for key in ["a", "b", "c", "d"] { _ = try await Self.increment(system, by: 1, key: key) }
        #expect(try await Self.increment(system, by: 1, key: "d") == "4")
        #expect(try await Self.increment(system, by: 1, key: "a") == "5")
        #expect(try await Self.stored(store) == 5)
        await system.shutdown()
    }

    @Test("a cleared state keeps its keys")
    func clearKeepsKeys() async throws {
        let store = MemoryStateStore()
        let ledger = IdempotencyLedger(settings: IdempotencySettings(), now: { 1_000 })
        #expect(ledger.attachDurable {})
        #expect(!ledger.attachDurable {})
        let key = StateKey(kind: "counter", id: "z")
        let state = PersistentState<Int>(key: key, store: store, initial: 0, events: { _ in }, ledger: ledger)
        try await IdempotentCall.$current.withValue(IdempotentCall(key: "set", fingerprint: 1, ledger: ledger)) { try await state.commit(7) }
        try await IdempotentCall.$current.withValue(IdempotentCall(key: "wipe", fingerprint: 2, ledger: ledger)) { try await state.clear() }
        #expect(state.value == 0)
        let record = try StoredRecord(try #require(try await store.read(key).value))
        #expect(record.value == nil)
        #expect(record.ledger.map(\.key) == ["set", "wipe"])
        let reread = IdempotencyLedger(settings: IdempotencySettings(), now: { 2_000 })
        let again = PersistentState<Int>(key: key, store: store, initial: 0, events: { _ in }, ledger: reread)
        try await again.read()
        #expect(again.value == 0)
        #expect(reread.lookup("set", fingerprint: 1) == .appliedWithoutResult)
        #expect(reread.lookup("set", fingerprint: 9) == .otherCall)
        #expect(reread.lookup("never", fingerprint: 1) == .unknown)
    }

    @Test("the ledger drops keys past the window and results over the size bound")
    func ledgerBounds() {
        let now = Atomic<Int64>(0)
        var settings = IdempotencySettings()
        settings.window = .seconds(10)
        settings.maxResultBytes = 4
        let dropped = Atomic<Int>(0)
        let ledger = IdempotencyLedger(
            settings: settings, now: { now.load(ordering: .relaxed) }, dropped: { dropped.add($0, ordering: .relaxed) })
        ledger.recordOutcome("small", fingerprint: 1, reply: [0, 0x31])
        ledger.recordOutcome("large", fingerprint: 2, reply: [0, 1, 2, 3, 4, 5])
        #expect(ledger.lookup("small", fingerprint: 1) == .replay([0, 0x31]))
        #expect(ledger.lookup("large", fingerprint: 2) == .appliedWithoutResult)
        now.store(9_999, ordering: .relaxed)
        #expect(ledger.lookup("small", fingerprint: 1) == .replay([0, 0x31]))
        now.store(10_001, ordering: .relaxed)
        #expect(ledger.lookup("small", fingerprint: 1) == .unknown)
        let pending = IdempotentCall(key: "p", fingerprint: 3, ledger: ledger)
        #expect(ledger.entriesForCommit(pending: pending).map(\.key) == ["p"])
        // A ledger a state carries keeps only calls that committed.
        let durable = IdempotencyLedger(settings: settings, now: { now.load(ordering: .relaxed) })
        #expect(durable.attachDurable {})
        durable.recordOutcome("read-only", fingerprint: 4, reply: [0, 0x31])
        #expect(durable.lookup("read-only", fingerprint: 4) == .unknown)
        #expect(dropped.load(ordering: .relaxed) == 0)
    }

    @Test("an actor that has not read its state yet has its stored keys read before a keyed call runs")
    func keysLoadBeforeALazyActorRuns() async throws {
        let store = MemoryStateStore()
        let key = StateKey(kind: "counter", id: "lazy")
        let writer = IdempotencyLedger(settings: IdempotencySettings(), now: { 1_000 })
        #expect(writer.attachDurable {})
        let state = PersistentState<Int>(key: key, store: store, initial: 0, events: { _ in }, ledger: writer)
        try await IdempotentCall.$current.withValue(IdempotentCall(key: "k", fingerprint: 5, ledger: writer)) { try await state.commit(1) }

        let ledger = IdempotencyLedger(settings: IdempotencySettings(), now: { 2_000 })
        let loads = Atomic<Int>(0)
        #expect(ledger.attachDurable {
            loads.add(1, ordering: .relaxed)
            let stored = try await store.read(key)
            ledger.load(try StoredRecord(try #require(stored.value)).ledger)
        })
        #expect(ledger.lookup("k", fingerprint: 5) == .unknown)
        try await ledger.loadIfNeeded()
        try await ledger.loadIfNeeded()
        #expect(loads.load(ordering: .relaxed) == 1)
        #expect(ledger.lookup("k", fingerprint: 5) == .appliedWithoutResult)
    }

    @Test("records round-trip; a plain value reads as before keys existed")
    func recordFormat() throws {
        let plain = try BinaryEncoder().encode(42)
        let read = try StoredRecord(plain)
        #expect(read.value.map(Array.init) == plain && read.ledger.isEmpty)
        let entries = [
            IdempotencyLedger.Entry(key: "a", at: 1_700_000_000_000, reply: [0, 0x34, 0x32], fingerprint: .max),
            IdempotencyLedger.Entry(key: "b", at: 5, reply: nil, fingerprint: 7),
        ]
        let envelope = StoredRecord.encode(value: plain, ledger: entries)
        let decoded = try StoredRecord(envelope)
        #expect(decoded.value.map(Array.init) == plain)
        #expect(decoded.ledger == entries)
        #expect(try PersistentState<Int>.value(fromStored: envelope) == 42)
        #expect(throws: LocalityError.self) { try StoredRecord(envelope + [0]) }
        #expect(throws: LocalityError.self) { try StoredRecord(Array(envelope.dropLast())) }
    }

    @Test("keys are 1-255 printable ASCII characters and travel in the JSON invocation")
    func keysOnTheWire() throws {
        #expect(throws: LocalityError.self) { try IdempotencyKey(validating: "") }
        #expect(throws: LocalityError.self) { try IdempotencyKey(validating: "a b") }
        #expect(throws: LocalityError.self) { try IdempotencyKey(validating: "é") }
        #expect(throws: LocalityError.self) { try IdempotencyKey(validating: String(repeating: "x", count: 256)) }
        let key = try IdempotencyKey(validating: String(repeating: "x", count: 255))
        let message = JSONInvocationMessage(
            chain: CallChainID(rawValue: 9), id: VirtualActorID(kind: "counter", key: "c"), method: "increment(by:)",
            json: Array("{\"by\":1}".utf8), idempotencyKey: key)
        #expect(try JSONInvocationMessage.decode(message.encoded()) == message)
        var plain = message
        plain.idempotencyKey = nil
        #expect(plain.encoded().first == JSONInvocationMessage.version)
        #expect(try JSONInvocationMessage.decode(plain.encoded()) == plain)
    }
}
