import DequeModule
import LocalityCore
import Synchronization

/// The calls one activation ran under idempotency keys, and their results: what makes a
/// retried call (same `IdempotencyKey`) run at most once and answer its first outcome.
///
/// An actor with a `PersistentState` keeps its ledger in that state's stored record,
/// written in the same commit as the value (the first state the actor creates carries
/// it). A call with a key that commits state adds the key in that very commit, so a
/// retry finds it wherever the actor is activated next, even after `kill -9`. The call's
/// result joins the ledger when the call returns and is stored with the next commit; a
/// retry that finds the key without its result (the node stopped before a later write)
/// gets `already_applied`, never a second run. Only calls that committed are remembered
/// (a call that changed nothing may run again; it does not take a place from one that
/// did). An actor without persistent state keeps every keyed call's result in memory for
/// the activation's life.
///
/// Each entry keeps a fingerprint of its call (method and arguments): the same key sent
/// with another call is refused (`bad_request`) instead of answering the first call's
/// result.
///
/// Bounds (`ActorSettings.idempotency`): entries older than the window are dropped, at
/// most `keysPerActor` entries are kept (oldest dropped first), and a result larger than
/// `maxResultBytes` is kept as "applied" without its bytes.
final class IdempotencyLedger: Sendable {
    /// One call: its key, when it ran (wall clock, milliseconds since the epoch), and its
    /// reply (`JSONInvocationReply` bytes) once known and kept.
    struct Entry: Equatable, Sendable {
        var key: String
        var at: Int64
        var reply: [UInt8]?
        /// xxHash64 of the call's method and arguments (`IdempotentCall.fingerprint`).
        var fingerprint: UInt64 = 0
    }

    /// What a retry finds.
    enum Lookup: Equatable {
        case unknown
        case replay([UInt8])
        case appliedWithoutResult
        /// The key was used for another call (another method or other arguments).
        case otherCall
    }

    /// The ledger the actor being activated attaches its first persistent state to.
    @TaskLocal static var activating: IdempotencyLedger?

    private struct State {
        var entries: [String: Entry] = [:]
        /// Keys oldest first (an entry is appended when first recorded).
        var order = Deque<String>()
        var durable = false
        /// The stored ledger was read (by the state's `read()` or `loadIfNeeded`).
        var loaded = false
    }

    private let settings: IdempotencySettings
    private let now: @Sendable () -> Int64
    private let dropped: (@Sendable (Int) -> Void)?
    private let state = Mutex(State())

    /// `now` gives wall-clock milliseconds; `dropped` is told of entries dropped by the
    /// key bound before their window ended.
    init(settings: IdempotencySettings, now: @escaping @Sendable () -> Int64, dropped: (@Sendable (Int) -> Void)? = nil) {
        var settings = settings
        settings.keysPerActor = max(1, settings.keysPerActor)
        settings.maxResultBytes = max(0, settings.maxResultBytes)
        self.settings = settings
        self.now = now
        self.dropped = dropped
    }

    /// Reads the stored ledger for the state that carries it (set by `attachDurable`).
    private let loader = Mutex<(@Sendable () async throws -> Void)?>(nil)

    /// Called by the first `PersistentState` of the activating actor with a way to read
    /// its stored keys: true if it now carries this ledger (false when another state does).
    func attachDurable(loader: @escaping @Sendable () async throws -> Void) -> Bool {
        let attached = state.withLock { state in
            if state.durable { return false }
            state.durable = true
            return true
        }
        if attached { self.loader.withLock { $0 = loader } }
        return attached
    }

    /// Reads the stored keys when the actor has not read its state yet (it may read it
    /// lazily): a retry must find its key before the method runs again.
    func loadIfNeeded() async throws {
        let needed = state.withLock { $0.durable && !$0.loaded }
        guard needed, let loader = loader.withLock({ $0 }) else { return }
        try await loader()
    }

    /// What a call retried under `key` should answer; `fingerprint` identifies the call.
    func lookup(_ key: String, fingerprint: UInt64) -> Lookup {
        let cutoff = now() - settings.window.nanoseconds / 1_000_000
        return state.withLock { state in
            guard let entry = state.entries[key], entry.at >= cutoff else { return .unknown }
            guard entry.fingerprint == fingerprint else { return .otherCall }
            return entry.reply.map(Lookup.replay) ?? .appliedWithoutResult
        }
    }

    /// The call under `key` returned `reply`: keep it (its bytes only up to
    /// `maxResultBytes`) if the call committed, or, when no state carries the ledger, in
    /// any case.
    func recordOutcome(_ key: String, fingerprint: UInt64, reply: [UInt8]) {
        let kept = reply.count <= settings.maxResultBytes ? reply : nil
        let at = now()
        let excess = state.withLock { state -> Int in
            if state.entries[key] != nil {
                state.entries[key]?.reply = kept
                return 0
            }
            guard !state.durable else { return 0 }
            state.entries[key] = Entry(key: key, at: at, reply: kept, fingerprint: fingerprint)
            state.order.append(key)
            return Self.prune(&state, cutoff: at - settings.window.nanoseconds / 1_000_000, limit: settings.keysPerActor)
        }
        if excess > 0 { dropped?(excess) }
    }

    /// The entries to store with the next commit, with `pending` (the key of the call
    /// committing, when it has one) as applied; expired and excess entries left out.
    func entriesForCommit(pending: IdempotentCall?) -> [Entry] {
        let at = now()
        let cutoff = at - settings.window.nanoseconds / 1_000_000
        return state.withLock { state in
            var kept = state.order.compactMap { key in state.entries[key].flatMap { $0.at >= cutoff ? $0 : nil } }
            if let pending, state.entries[pending.key] == nil {
                kept.append(Entry(key: pending.key, at: at, reply: nil, fingerprint: pending.fingerprint))
            }
            return Array(kept.suffix(settings.keysPerActor))
        }
    }

    /// The store committed `entries` (from `entriesForCommit`): they are now the ledger's
    /// durable part; a pending key among them is now known in memory too.
    func committed(_ entries: [Entry]) {
        let excess = state.withLock { state -> Int in
            state.loaded = true
            for entry in entries where state.entries[entry.key] == nil {
                state.entries[entry.key] = entry
                state.order.append(entry.key)
            }
            return Self.prune(&state, cutoff: now() - settings.window.nanoseconds / 1_000_000, limit: settings.keysPerActor)
        }
        if excess > 0 { dropped?(excess) }
    }

    /// Merges entries read from the store (an activation loading, or a re-read).
    func load(_ entries: [Entry]) {
        state.withLock { state in
            state.loaded = true
            for entry in entries.sorted(by: { $0.at < $1.at }) where state.entries[entry.key] == nil {
                state.entries[entry.key] = entry
                state.order.append(entry.key)
            }
            _ = Self.prune(&state, cutoff: now() - settings.window.nanoseconds / 1_000_000, limit: settings.keysPerActor)
        }
    }

    /// Drops expired entries and the oldest beyond `limit`; returns how many went for the
    /// limit alone (a window cut short).
    private static func prune(_ state: inout State, cutoff: Int64, limit: Int) -> Int {
        var excess = 0
        while let oldest = state.order.first {
            guard let entry = state.entries[oldest] else {
                state.order.removeFirst()
                continue
            }
            let expired = entry.at < cutoff
            guard expired || state.entries.count > limit else { break }
            if !expired { excess += 1 }
            state.entries[oldest] = nil
            state.order.removeFirst()
        }
        return excess
    }
}

/// The key of the call running in this task, and the ledger of the activation it runs
/// on: a `PersistentState` carrying that ledger writes the key with its commit.
struct IdempotentCall: Sendable {
    let key: String
    /// xxHash64 of the method's stable name and the JSON arguments.
    let fingerprint: UInt64
    let ledger: IdempotencyLedger

    @TaskLocal static var current: IdempotentCall?

    /// The fingerprint of a call of `method` with `arguments`.
    static func fingerprint(method: String, arguments: [UInt8]) -> UInt64 {
        StableHash.xxHash64(bytes: Array(method.utf8) + [0] + arguments)
    }
}

extension IdempotencyLedger.Entry {
    /// `u8 version=1 | varint count | count × (key | varint at | u64 fingerprint (LE) | u8 has reply | [varint length | reply])`.
    static func encode(_ entries: [Self], into bytes: inout [UInt8]) {
        bytes.append(1)
        BinaryValue.writeVarint(UInt64(entries.count), to: &bytes)
        for entry in entries {
            BinaryValue.writeString(entry.key, to: &bytes)
            BinaryValue.writeVarint(UInt64(max(0, entry.at)), to: &bytes)
            withUnsafeBytes(of: entry.fingerprint.littleEndian) { bytes.append(contentsOf: $0) }
            if let reply = entry.reply {
                bytes.append(1)
                BinaryValue.writeVarint(UInt64(reply.count), to: &bytes)
                bytes.append(contentsOf: reply)
            } else {
                bytes.append(0)
            }
        }
    }

    static func decode(from reader: inout ByteReader) throws(LocalityError) -> [Self] {
        guard try reader.byte() == 1 else { throw LocalityError(.badRequest, "unknown idempotency ledger version") }
        let count = try reader.count()
        var entries: [Self] = []
        for _ in 0..<count {
            let key = try reader.string()
            let at = Int64(clamping: try reader.varint())
            let fingerprint = try reader.fixed(UInt64.self)
            var reply: [UInt8]?
            switch try reader.byte() {
            case 0: reply = nil
            case 1: reply = Array(try reader.take(try reader.count()))
            default: throw LocalityError(.badRequest, "bad idempotency ledger entry")
            }
            entries.append(Self(key: key, at: at, reply: reply, fingerprint: fingerprint))
        }
        return entries
    }
}
