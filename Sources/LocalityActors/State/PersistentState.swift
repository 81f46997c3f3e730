import LocalityCore
import LocalityStorage
import Synchronization

/// The persisted state of one virtual actor, read from and written to a `StateStore`
/// with optimistic concurrency (Orleans' `IPersistentState<T>`).
///
/// `read()` loads the value and its etag (a never-written key keeps `initial`);
/// `write()` stores `value` if the store still holds the etag this activation read or
/// last wrote, and returns after the store committed. A stale etag means another
/// activation of the same actor wrote in between (a duplicate activation after a
/// partition): `write()` throws `conflict` and this activation is dropped when its turn
/// ends, so the next call activates afresh from the store.
///
/// Values are encoded with `BinaryEncoder`. Create it in the actor's initializer from the
/// id the factory receives: `PersistentState(id: id, system: actorSystem, initial: …)`.
/// Made that way, the encoded size of the value (as last read or written) counts in the
/// activation's memory estimate (`ActorSettings.memoryBudgetBytes`).
public final class PersistentState<Value: Codable & Sendable>: Sendable {
    /// Where the value lives in the store (`kind`, `key` of the actor).
    public let key: StateKey
    private let store: any StateStore
    private let initial: Value
    /// Told of conflicts and of changes of the encoded size (one closure, so an
    /// activation pays for one context).
    private let events: @Sendable (Event) -> Void
    /// Value, its etag, and its encoded size as last reported.
    private let record: Mutex<(value: Value, etag: ETag, bytes: Int)>
    /// The actor's idempotency keys, stored with the value (nil: this state carries none).
    private let ledger: IdempotencyLedger?

    /// What a `PersistentState` tells its owner.
    enum Event {
        /// A write found a stale etag.
        case conflict
        /// A write may or may not have committed (`outcome_unknown`); `matchesStore` reads
        /// the store and tells whether it holds the version memory holds.
        case outcomeUnknown(matchesStore: @Sendable () async throws -> Bool)
        /// The encoded size changed by this many bytes (after a read, write or clear).
        case sizeChanged(Int)
    }

    /// State of the actor `id`, kept in `system`'s state store. The first one an actor
    /// creates while it activates also stores the actor's idempotency keys (see
    /// `IdempotencyKey`), in the same record and the same commits as its value.
    public convenience init(id: VirtualActorID, system: ClusterSystem, initial: Value) {
        let activating = IdempotencyLedger.activating
        let store = system.stateStore
        let key = StateKey(kind: id.kind, id: id.key)
        let ledger = activating.flatMap { ledger in
            ledger.attachDurable { try await Self.loadLedger(key: key, store: store, into: ledger) } ? ledger : nil
        }
        self.init(
            key: StateKey(kind: id.kind, id: id.key), store: system.stateStore, initial: initial,
            events: { [weak system] event in
                switch event {
                case .conflict: system?.stateConflicted(id)
                case .outcomeUnknown(let matchesStore): system?.stateOutcomeUnknown(id, matchesStore: matchesStore)
                case .sizeChanged(let delta): system?.stateSizeChanged(id, by: delta)
                }
            },
            ledger: ledger
        )
    }

    /// State at `key` of `store`; `onConflict` runs when a write finds a stale etag.
    public convenience init(key: StateKey, store: any StateStore, initial: Value, onConflict: @escaping @Sendable () -> Void = {}) {
        self.init(key: key, store: store, initial: initial, events: { event in
            if case .conflict = event { onConflict() }
        })
    }

    init(key: StateKey, store: any StateStore, initial: Value, events: @escaping @Sendable (Event) -> Void, ledger: IdempotencyLedger? = nil) {
        self.key = key
        self.store = store
        self.initial = initial
        self.events = events
        self.ledger = ledger
        self.record = Mutex((initial, .absent, 0))
    }

    /// The value in memory (changed by assigning; persisted by `write()`).
    public var value: Value {
        get { record.withLock { $0.value } }
        set { record.withLock { $0.value = newValue } }
    }

    /// The version this activation last read or wrote.
    public var etag: ETag { record.withLock { $0.etag } }

    /// Loads the value from the store (`initial` when never written or cleared).
    public func read() async throws {
        let stored = try await store.read(key)
        var value = initial
        if let bytes = stored.value {
            let record = try StoredRecord(bytes)
            value = try Self.decode(record) ?? initial
            ledger?.load(record.ledger)
        }
        let delta = record.withLock { record in
            defer { record = (value, stored.etag, stored.value?.count ?? 0) }
            return (stored.value?.count ?? 0) - record.bytes
        }
        sized(delta)
    }

    /// Stores the value in memory; returns once the store committed it. If the write
    /// fails, memory keeps the new value the store does not hold: prefer `commit(_:)`.
    public func write() async throws {
        let (value, etag) = record.withLock { ($0.value, $0.etag) }
        let (bytes, entries) = try stored(value)
        let next = try await guarded { try await self.store.write(self.key, value: bytes, ifMatch: etag) }
        ledger?.committed(entries)
        let delta = record.withLock { record in
            defer { (record.etag, record.bytes) = (next, bytes.count) }
            return bytes.count - record.bytes
        }
        sized(delta)
    }

    /// Stores `next` and makes it the value once the store committed it. If the write
    /// fails (`storage_unavailable`, `outcome_unknown`, `conflict`, …), the value in memory
    /// stays what the store last acknowledged: memory never runs ahead of the ground truth.
    /// After `conflict` the actor's activation is dropped when the turn ends, without
    /// `onDeactivate`, so the next call reads what the store holds. After `outcome_unknown`
    /// (the store may hold `next` after all) memory keeps serving while the store cannot
    /// tell, and the activation is dropped as soon as the store answers with another
    /// version than memory holds.
    public func commit(_ next: Value) async throws {
        try await commit(next, ifMatch: record.withLock { $0.etag })
    }

    /// `commit(_:)` against the version `next` was computed from.
    private func commit(_ next: Value, ifMatch etag: ETag) async throws {
        let (bytes, entries) = try stored(next)
        let version = try await guarded { try await self.store.write(self.key, value: bytes, ifMatch: etag) }
        ledger?.committed(entries)
        let delta = record.withLock { record in
            defer { record = (next, version, bytes.count) }
            return bytes.count - record.bytes
        }
        sized(delta)
    }

    /// Changes a copy of the value with `change`, stores it, and makes it the value once
    /// the store committed it (see `commit(_:)`); returns what `change` returned.
    @discardableResult
    public func update<Result>(_ change: (inout Value) throws -> Result) async throws -> Result {
        // Value and version read together: the write must match what `change` saw.
        var (next, etag) = record.withLock { ($0.value, $0.etag) }
        let result = try change(&next)
        try await commit(next, ifMatch: etag)
        return result
    }

    /// Deletes the stored value and resets the value in memory to `initial`. While the
    /// actor remembers idempotency keys, the record stays with the keys and no value.
    public func clear() async throws {
        let etag = record.withLock { $0.etag }
        let entries = ledger?.entriesForCommit(pending: pendingCall) ?? []
        let next: ETag
        var bytes = 0
        if entries.isEmpty {
            next = try await guarded { try await self.store.delete(self.key, ifMatch: etag) }
        } else {
            let record = StoredRecord.encode(value: nil, ledger: entries)
            bytes = record.count
            next = try await guarded { try await self.store.write(self.key, value: record, ifMatch: etag) }
            ledger?.committed(entries)
        }
        let delta = record.withLock { record in
            defer { record = (self.initial, next, bytes) }
            return bytes - record.bytes
        }
        sized(delta)
    }

    /// The record to store for `value`: the value alone, or with the idempotency keys to
    /// keep (the running call's key among them), and those keys.
    private func stored(_ value: Value) throws -> (bytes: [UInt8], entries: [IdempotencyLedger.Entry]) {
        let encoded = try BinaryEncoder().encode(value)
        guard let ledger else { return (encoded, []) }
        let entries = ledger.entriesForCommit(pending: pendingCall)
        return entries.isEmpty ? (encoded, []) : (StoredRecord.encode(value: encoded, ledger: entries), entries)
    }

    /// The call committing, when it runs under a key on this state's actor.
    private var pendingCall: IdempotentCall? {
        guard let call = IdempotentCall.current, let ledger, call.ledger === ledger else { return nil }
        return call
    }

    /// Reads only the idempotency keys stored at `key` into `ledger` (for an actor that
    /// has not read its state when a keyed call arrives).
    private static func loadLedger(key: StateKey, store: any StateStore, into ledger: IdempotencyLedger) async throws {
        let stored = try await store.read(key)
        ledger.load(try stored.value.map { try StoredRecord($0).ledger } ?? [])
    }

    /// The value in a stored record as `PersistentState` wrote it (nil for a record that
    /// holds no value), for code that reads the store directly (checks, tools).
    public static func value(fromStored bytes: [UInt8]) throws -> Value? {
        try decode(StoredRecord(bytes))
    }

    /// The value a record holds, nil when it holds none.
    private static func decode(_ record: StoredRecord) throws -> Value? {
        try record.value.map { try BinaryDecoder().decode(Value.self, from: Array($0)) }
    }

    private func guarded(_ operation: @Sendable () async throws -> ETag) async throws -> ETag {
        do {
            return try await operation()
        } catch let error as LocalityError where error.code == .conflict {
            events(.conflict)
            throw error
        } catch let error as LocalityError where error.code == .outcomeUnknown {
            let (store, key) = (store, key)
            events(.outcomeUnknown(matchesStore: { [weak self] in
                guard let self else { return true }
                return try await store.read(key).etag == self.etag
            }))
            throw error
        }
    }
}

extension PersistentState {
    /// Tells the owner a size change, if any.
    private func sized(_ delta: Int) {
        if delta != 0 { events(.sizeChanged(delta)) }
    }
}
