import LocalityCore

/// One node's part of the activation directory, a pure core (no IO, no clock).
///
/// As in Orleans' grain directory, the directory is a DHT partitioned over the live members
/// by consistent hashing: the entry for a key lives on the ring owner of the key. A node
/// answers requests for the keys it owns in its own view and refuses the others with
/// `not_owner` and the owner it sees, so the caller re-resolves and retries there.
///
/// Rules:
/// - **First writer wins.** A register for a key that already has a live entry gets the
///   existing address back; the caller must not (or no longer) host an activation.
/// - **Epochs.** Unregister removes an entry only if node and activation epoch match.
/// - **Membership changes** (`updateMembers`): entries pointing at nodes that left the view
///   are dropped; entries whose key now belongs to another owner are handed off to it.
/// - **Recovery.** A partition that dies with its node is lost; hosts re-register their
///   activations whose owner changed (`reRegistrations`), the push form of the recovery
///   in Orleans 9's `DistributedGrainDirectory`. Hand-off and re-registration meet at the
///   new owner under first-writer-wins, so once views converge at most one activation per
///   key stays registered.
public struct ActivationDirectory: Sendable {
    /// The node this partition runs on.
    public let local: NodeID
    /// Configuration.
    public let settings: DirectorySettings
    /// This node's view of the live members.
    public private(set) var ring: HashRing
    private var entries: [String: ActivationAddress] = [:]

    /// Hand-off entries dropped because this node did not own their key in its view or
    /// because the partition was full (the hosts re-register them).
    public private(set) var droppedHandOffEntries = 0

    /// A partition for `local`, over the ring of `members` (built with `settings.ring`).
    public init(local: NodeID, members: [NodeID], settings: DirectorySettings = DirectorySettings()) {
        self.init(local: local, ring: HashRing(members: members, settings: settings.ring), settings: settings)
    }

    /// A partition over a ring already built (with `settings.ring`) for the current view.
    public init(local: NodeID, ring: HashRing, settings: DirectorySettings = DirectorySettings()) {
        self.local = local
        self.settings = settings
        self.ring = ring
    }

    /// Entries held by this partition.
    public var count: Int { entries.count }

    /// The partition owner of `key` in this node's view.
    public func owner(of key: String) -> NodeID? { ring.owner(of: key) }

    /// The recorded activation of `key` in this partition, if any.
    public func entry(for key: String) -> ActivationAddress? { entries[key] }

    /// All entries, sorted by key (for inspection and tests).
    public var sortedEntries: [DirectoryEntry] {
        entries.map { DirectoryEntry(key: $0.key, address: $0.value) }.sorted { $0.key < $1.key }
    }

    /// Answers one request.
    public mutating func handle(_ request: DirectoryRequest) -> DirectoryReply {
        switch request {
        case .lookup(let key): return lookup(key)
        case .register(let key, let address): return register(key, address: address)
        case .unregister(let key, let address): return unregister(key, address: address)
        case .move(let key, let address): return move(key, to: address)
        }
    }

    /// Where `key` is active, as far as this partition knows.
    public mutating func lookup(_ key: String) -> DirectoryReply {
        if let refusal = refuseIfNotOwner(key) { return refusal }
        guard let address = entries[key] else { return .notFound }
        if !ring.contains(address.node) {
            entries[key] = nil
            return .notFound
        }
        return .found(address)
    }

    /// Records `address` as the activation of `key` unless a live one is recorded (first
    /// writer wins; the existing address is returned).
    public mutating func register(_ key: String, address: ActivationAddress) -> DirectoryReply {
        if let refusal = refuseIfNotOwner(key) { return refusal }
        if let existing = entries[key], ring.contains(existing.node) { return .registered(existing) }
        guard ring.contains(address.node) else { return .rejected(.unavailable, owner: nil) }
        if entries[key] == nil, entries.count >= settings.partitionCapacity {
            return .rejected(.overloaded, owner: nil)
        }
        entries[key] = address
        return .registered(address)
    }

    /// Removes the entry of `key` if it is exactly `address` (node and epoch).
    public mutating func unregister(_ key: String, address: ActivationAddress) -> DirectoryReply {
        if let refusal = refuseIfNotOwner(key) { return refusal }
        guard entries[key] == address else { return .unregistered(removed: false) }
        entries[key] = nil
        return .unregistered(removed: true)
    }

    /// Points `key` at a new activation, for rebalancing a hot or misplaced key; the caller
    /// deactivates the activation it replaced (`moved(from:)`). `notFound` if the key has
    /// no live entry, `unavailable` if the target is not a live member.
    public mutating func move(_ key: String, to address: ActivationAddress) -> DirectoryReply {
        if let refusal = refuseIfNotOwner(key) { return refusal }
        guard let existing = entries[key], ring.contains(existing.node) else { return .notFound }
        guard ring.contains(address.node) else { return .rejected(.unavailable, owner: nil) }
        entries[key] = address
        return .moved(from: existing)
    }

    /// Applies a new member list: drops entries pointing at nodes no longer present and
    /// returns, grouped by new owner and sorted by key, the entries that moved away (they
    /// are removed here).
    public mutating func updateMembers(_ members: [NodeID]) -> [DirectoryHandOff] {
        update(ring: HashRing(members: members, settings: settings.ring))
    }

    /// `updateMembers` with a ring already built for the new view (a node builds one ring
    /// per view and shares it between routing and the directory). The ring should be built
    /// with `settings.ring`, or this node will disagree with the others about owners.
    public mutating func update(ring newRing: HashRing) -> [DirectoryHandOff] {
        ring = newRing
        var leaving: [(owner: Int, entry: DirectoryEntry)] = []
        var dead: [String] = []
        for (key, address) in entries {
            if !ring.contains(address.node) {
                dead.append(key)
                continue
            }
            guard let owner = ring.ownerIndex(of: key), ring.members[owner] != local else { continue }
            leaving.append((owner, DirectoryEntry(key: key, address: address)))
        }
        for key in dead { entries[key] = nil }
        for item in leaving { entries[item.entry.key] = nil }
        // Dictionary order is seeded per process: sort so messages are the same every run.
        leaving.sort { $0.owner != $1.owner ? $0.owner < $1.owner : $0.entry.key < $1.entry.key }
        var handOffs: [DirectoryHandOff] = []
        var start = 0
        while start < leaving.count {
            let owner = leaving[start].owner
            var end = start
            while end < leaving.count, leaving[end].owner == owner, end - start < settings.handOffBatchLimit { end += 1 }
            handOffs.append(DirectoryHandOff(target: ring.members[owner], entries: leaving[start..<end].map(\.entry)))
            start = end
        }
        return handOffs
    }

    /// Merges entries handed off by a previous owner. A key that already has a live entry
    /// keeps it (first writer wins) and the handed-off activation is reported as a
    /// conflict loser; entries this node does not own in its view, or pointing at nodes
    /// it does not see alive, are dropped.
    public mutating func acceptHandOff(_ handOff: DirectoryHandOff) -> [DirectoryConflict] {
        var conflicts: [DirectoryConflict] = []
        for entry in handOff.entries {
            guard ring.owner(of: entry.key) == local, ring.contains(entry.address.node) else {
                droppedHandOffEntries += 1
                continue
            }
            if let existing = entries[entry.key], ring.contains(existing.node) {
                if existing != entry.address {
                    conflicts.append(DirectoryConflict(key: entry.key, winner: existing, loser: entry.address))
                }
                continue
            }
            if entries[entry.key] == nil, entries.count >= settings.partitionCapacity {
                droppedHandOffEntries += 1
                continue
            }
            entries[entry.key] = entry.address
        }
        return conflicts
    }

    /// Recovery rule for a host: of the keys it hosts, those whose partition owner differs
    /// between the `old` and `new` view, in the order given. The host re-registers each
    /// with its new owner and deactivates it if the answer names another activation.
    public static func reRegistrations<Keys: Sequence>(of hostedKeys: Keys, from old: HashRing, to new: HashRing) -> [String]
    where Keys.Element == String {
        hostedKeys.filter { old.owner(of: $0) != new.owner(of: $0) }
    }

    private func refuseIfNotOwner(_ key: String) -> DirectoryReply? {
        let owner = ring.owner(of: key)
        return owner == local ? nil : .rejected(.notOwner, owner: owner)
    }
}
