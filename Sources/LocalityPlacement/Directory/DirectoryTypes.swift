import LocalityCore

/// Where one activation of a key lives: the node and the activation epoch, a number the
/// hosting node raises every time it creates an activation, so that an unregister from an
/// old activation can never remove a newer one.
public struct ActivationAddress: Hashable, Sendable, CustomStringConvertible {
    /// The node hosting the activation.
    public var node: NodeID
    /// The activation epoch on that node.
    public var epoch: UInt64

    /// The activation number `epoch` on `node`.
    public init(node: NodeID, epoch: UInt64) {
        self.node = node
        self.epoch = epoch
    }

    /// `node@epoch`, for logs.
    public var description: String { "\(node)@\(epoch)" }
}

/// One directory record: key → activation.
public struct DirectoryEntry: Hashable, Sendable {
    /// The key (actor or grain identity).
    public var key: String
    /// Where its activation lives.
    public var address: ActivationAddress

    /// The record of `key`'s activation at `address`.
    public init(key: String, address: ActivationAddress) {
        self.key = key
        self.address = address
    }
}

/// A request to the directory partition that owns `key`.
public enum DirectoryRequest: Hashable, Sendable {
    /// Where is `key` active?
    case lookup(key: String)
    /// Record `address` as the activation of `key`, unless a live one is recorded already.
    case register(key: String, address: ActivationAddress)
    /// Forget `address` for `key` (only if it is the recorded one, epoch included).
    case unregister(key: String, address: ActivationAddress)
    /// Point `key` at a new activation (rebalancing).
    case move(key: String, to: ActivationAddress)

    /// The key the request is about.
    public var key: String {
        switch self {
        case .lookup(let key), .register(let key, _), .unregister(let key, _), .move(let key, _): return key
        }
    }
}

/// The answer of a directory partition.
public enum DirectoryReply: Hashable, Sendable {
    /// `key` is active at this address.
    case found(ActivationAddress)
    /// No live activation is recorded.
    case notFound
    /// The recorded activation after a register: the caller's own address if it won, the
    /// existing one if a live activation was recorded first (first writer wins).
    case registered(ActivationAddress)
    /// Result of an unregister: whether the recorded entry was removed.
    case unregistered(removed: Bool)
    /// The entry now points at the new address; `from` is the activation it replaced.
    case moved(from: ActivationAddress)
    /// Refused: `not_owner` (with the owner in this partition's view, to retry there),
    /// `overloaded` (partition full), `unavailable` (the address's node is not a live
    /// member in this view).
    case rejected(LocalityError.Code, owner: NodeID?)
}

/// Entries whose partition moved to another owner after a membership change, to be sent
/// there. At most `DirectorySettings.handOffBatchLimit` entries per hand-off.
public struct DirectoryHandOff: Hashable, Sendable {
    /// The new owner of every entry in `entries`.
    public var target: NodeID
    /// Entries sorted by key.
    public var entries: [DirectoryEntry]

    /// A hand-off of `entries` to `target`.
    public init(target: NodeID, entries: [DirectoryEntry]) {
        self.target = target
        self.entries = entries
    }
}

/// Two live activations of one key met in a partition (a hand-off arrived for a key already
/// registered): `winner` stays recorded, the `loser` should deactivate.
public struct DirectoryConflict: Hashable, Sendable {
    /// The key both activations serve.
    public var key: String
    /// The activation that stays recorded (registered first at the partition).
    public var winner: ActivationAddress
    /// The activation to deactivate.
    public var loser: ActivationAddress

    /// A conflict over `key` between `winner` and `loser`.
    public init(key: String, winner: ActivationAddress, loser: ActivationAddress) {
        self.key = key
        self.winner = winner
        self.loser = loser
    }
}

/// Configuration of the activation directory.
public struct DirectorySettings: Sendable, Equatable {
    /// The ring that maps a key to its partition owner (default: 256 virtual nodes).
    public var ring: RingSettings
    /// Maximum entries one partition holds (default 1,048,576 entries). When full, a
    /// register for a new key is rejected with `overloaded` and hand-off entries beyond
    /// the bound are dropped (their hosts re-register them later, see `reRegistrations`).
    public var partitionCapacity: Int
    /// Maximum entries in one hand-off message (default 4,096 entries); a larger move is
    /// split into several messages.
    public var handOffBatchLimit: Int
    /// Maximum entries in a caller's lookup cache (default 100,000 entries); when full, a
    /// random entry (seeded) is evicted.
    public var cacheCapacity: Int

    /// Settings with the defaults above; each bound is raised to at least 1.
    public init(
        ring: RingSettings = RingSettings(),
        partitionCapacity: Int = 1 << 20,
        handOffBatchLimit: Int = 4096,
        cacheCapacity: Int = 100_000
    ) {
        self.ring = ring
        self.partitionCapacity = max(1, partitionCapacity)
        self.handOffBatchLimit = max(1, handOffBatchLimit)
        self.cacheCapacity = max(1, cacheCapacity)
    }
}
