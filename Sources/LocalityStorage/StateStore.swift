import LocalityCore

/// The address of one actor's persisted state: the actor kind and its id within the kind.
public struct StateKey: Hashable, Sendable, CustomStringConvertible {
    /// Actor kind as registered (`player`).
    public var kind: String
    /// Actor id within the kind (`player-42`).
    public var id: String

    /// The state key of actor `id` of `kind`.
    public init(kind: String, id: String) {
        self.kind = kind
        self.id = id
    }

    /// `kind/id`, for logs and error messages.
    public var description: String { "\(kind)/\(id)" }
}

/// The version of one key's state, for optimistic concurrency (HTTP's If-Match; Orleans'
/// grain-state ETag).
///
/// Versions are per key and only grow: every write and every delete raises it by one, and
/// a delete leaves a tombstone carrying its version, so a writer holding a version from
/// before a delete cannot match again after a re-create (no ABA). `ETag.absent` (0) is the
/// version of a key that was never written.
public struct ETag: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Monotonic version number; 0 means never written.
    public var rawValue: Int64

    /// The version `rawValue`.
    public init(_ rawValue: Int64) {
        self.rawValue = rawValue
    }

    /// The version of a key that has never been written.
    public static let absent = ETag(0)

    /// Older versions sort first.
    public static func < (lhs: ETag, rhs: ETag) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The version number as text.
    public var description: String { String(rawValue) }
}

/// What a read returns: the bytes (nil when never written or deleted) and the version to
/// pass as `ifMatch` to the next write or delete.
public struct VersionedValue: Hashable, Sendable {
    /// The stored bytes, or nil if the key holds no value (never written, or deleted).
    public var value: [UInt8]?
    /// The current version of the key.
    public var etag: ETag

    /// A read's result: `value` (nil for none) at version `etag`.
    public init(value: [UInt8]?, etag: ETag) {
        self.value = value
        self.etag = etag
    }
}

/// The ground truth for actor state: keyed bytes with optimistic concurrency.
///
/// Contract shared by every backend (checked by the same tests on each):
/// - `write(_:value:ifMatch:)` succeeds only when the key's current version equals
///   `ifMatch`, and returns the new version; otherwise it throws
///   `LocalityError(.conflict)` and changes nothing.
/// - A write or delete returns only after the store has committed it: an acknowledged
///   change survives a crash of the process (Orleans and Dapr semantics: the state
///   provider acknowledges after the storage write).
/// - `delete(_:ifMatch:)` leaves a tombstone with a raised version; see `ETag`.
public protocol StateStore: Sendable {
    /// Reads the value and version of `key`; a never-written key reads as
    /// `VersionedValue(value: nil, etag: .absent)`.
    func read(_ key: StateKey) async throws -> VersionedValue

    /// Replaces the value of `key` if its version is `ifMatch`; returns the new version.
    /// Throws `LocalityError(.conflict)` on a version mismatch and
    /// `LocalityError(.overloaded)` when the store's write queue is full.
    func write(_ key: StateKey, value: [UInt8], ifMatch: ETag) async throws -> ETag

    /// Clears the value of `key` if its version is `ifMatch`; returns the new version.
    /// Deleting a never-written key with `ifMatch: .absent` is a no-op returning `.absent`.
    func delete(_ key: StateKey, ifMatch: ETag) async throws -> ETag

    /// Stops accepting work, finishes what was accepted and releases the backing resources.
    func close() async throws
}
