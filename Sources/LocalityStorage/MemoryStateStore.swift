import LocalityCore
import Synchronization

/// A `StateStore` held in process memory, for unit tests and simulations.
///
/// Same version rules as every backend (see `StateStore`); nothing survives the process.
/// Bound: at most `capacity` keys (default 1,000,000); writing a new key beyond it throws
/// `LocalityError(.overloaded)`.
public final class MemoryStateStore: StateStore {
    private let entries = Mutex<[StateKey: VersionedValue]>([:])
    private let capacity: Int

    /// - Parameter capacity: maximum number of distinct keys (tombstones included).
    public init(capacity: Int = 1_000_000) {
        self.capacity = capacity
    }

    public func read(_ key: StateKey) async throws -> VersionedValue {
        entries.withLock { $0[key] } ?? VersionedValue(value: nil, etag: .absent)
    }

    public func write(_ key: StateKey, value: [UInt8], ifMatch: ETag) async throws -> ETag {
        try entries.withLock { entries in
            let current = entries[key]?.etag ?? .absent
            guard current == ifMatch else { throw Self.conflict(key, expected: ifMatch, found: current) }
            if entries[key] == nil, entries.count >= capacity {
                throw LocalityError(.overloaded, "memory state store holds \(capacity) keys")
            }
            let next = ETag(current.rawValue + 1)
            entries[key] = VersionedValue(value: value, etag: next)
            return next
        }
    }

    public func delete(_ key: StateKey, ifMatch: ETag) async throws -> ETag {
        try entries.withLock { entries in
            guard let existing = entries[key] else {
                guard ifMatch == .absent else { throw Self.conflict(key, expected: ifMatch, found: .absent) }
                return .absent
            }
            guard existing.etag == ifMatch else { throw Self.conflict(key, expected: ifMatch, found: existing.etag) }
            let next = ETag(existing.etag.rawValue + 1)
            entries[key] = VersionedValue(value: nil, etag: next)
            return next
        }
    }

    public func close() async throws {}

    /// Number of keys held, tombstones included.
    public var count: Int { entries.withLock { $0.count } }

    static func conflict(_ key: StateKey, expected: ETag, found: ETag) -> LocalityError {
        LocalityError(.conflict, "state \(key): expected etag \(expected), found \(found)")
    }
}
