import LocalityCore
import LocalityPlacement
import Testing

@Suite("ActivationDirectory partition core")
struct ActivationDirectoryTests {
    static let members = (0..<4).map { NodeID(name: "node-\($0)", uid: UInt64($0) + 100) }

    /// The directories of all members, each with the same view.
    static func directories(_ members: [NodeID] = members) -> [NodeID: ActivationDirectory] {
        var result: [NodeID: ActivationDirectory] = [:]
        for member in members { result[member] = ActivationDirectory(local: member, members: members) }
        return result
    }

    @Test("only the ring owner answers; the others refuse with not_owner and name the owner")
    func notOwner() {
        var directories = Self.directories()
        let key = "key-1"
        let owner = HashRing(members: Self.members).owner(of: key)!
        for member in Self.members where member != owner {
            #expect(directories[member]!.lookup(key) == .rejected(.notOwner, owner: owner))
        }
        #expect(directories[owner]!.lookup(key) == .notFound)
    }

    @Test("first writer wins: a second registration gets the existing address back")
    func firstWriterWins() {
        let key = "key-2"
        let owner = HashRing(members: Self.members).owner(of: key)!
        var directory = ActivationDirectory(local: owner, members: Self.members)
        let first = ActivationAddress(node: Self.members[0], epoch: 1)
        let second = ActivationAddress(node: Self.members[1], epoch: 1)
        #expect(directory.register(key, address: first) == .registered(first))
        #expect(directory.register(key, address: second) == .registered(first))
        #expect(directory.lookup(key) == .found(first))
    }

    @Test("unregister needs the same node and activation epoch")
    func unregisterEpoch() {
        let key = "key-3"
        let owner = HashRing(members: Self.members).owner(of: key)!
        var directory = ActivationDirectory(local: owner, members: Self.members)
        let current = ActivationAddress(node: Self.members[2], epoch: 7)
        _ = directory.register(key, address: current)
        #expect(directory.unregister(key, address: ActivationAddress(node: Self.members[2], epoch: 6)) == .unregistered(removed: false))
        #expect(directory.lookup(key) == .found(current))
        #expect(directory.unregister(key, address: current) == .unregistered(removed: true))
        #expect(directory.lookup(key) == .notFound)
    }

    @Test("a registration from a node outside the view is refused as unavailable")
    func unknownNode() {
        let key = "key-4"
        let owner = HashRing(members: Self.members).owner(of: key)!
        var directory = ActivationDirectory(local: owner, members: Self.members)
        let stranger = ActivationAddress(node: NodeID(name: "x", uid: 1), epoch: 1)
        #expect(directory.register(key, address: stranger) == .rejected(.unavailable, owner: nil))
    }

    @Test("move repoints a live entry and returns the activation it replaced")
    func move() {
        let key = "key-5"
        let owner = HashRing(members: Self.members).owner(of: key)!
        var directory = ActivationDirectory(local: owner, members: Self.members)
        let from = ActivationAddress(node: Self.members[0], epoch: 1)
        let to = ActivationAddress(node: Self.members[3], epoch: 4)
        #expect(directory.move(key, to: to) == .notFound)
        _ = directory.register(key, address: from)
        #expect(directory.handle(.move(key: key, to: to)) == .moved(from: from))
        #expect(directory.lookup(key) == .found(to))
    }

    @Test("a full partition rejects new keys with overloaded")
    func capacity() {
        let owner = Self.members[0]
        let ring = HashRing(members: Self.members)
        var directory = ActivationDirectory(local: owner, members: Self.members, settings: DirectorySettings(partitionCapacity: 3))
        let owned = (0..<200).map { "key-\($0)" }.filter { ring.owner(of: $0) == owner }
        let address = ActivationAddress(node: owner, epoch: 1)
        for key in owned.prefix(3) { #expect(directory.register(key, address: address) == .registered(address)) }
        #expect(directory.register(owned[3], address: address) == .rejected(.overloaded, owner: nil))
        #expect(directory.count == 3)
    }

    @Test("membership change: entries of dead nodes are dropped, moved partitions are handed off")
    func membershipChange() {
        var directories = Self.directories()
        let hosts = Self.members
        var registered: [String: ActivationAddress] = [:]
        for index in 0..<400 {
            let key = "key-\(index)"
            let owner = directories[hosts[0]]!.owner(of: key)!
            let address = ActivationAddress(node: hosts[index % 4], epoch: UInt64(index))
            #expect(directories[owner]!.register(key, address: address) == .registered(address))
            registered[key] = address
        }
        // node-3 dies, joiner arrives.
        let joiner = NodeID(name: "node-9", uid: 900)
        let next = [hosts[0], hosts[1], hosts[2], joiner]
        directories[hosts[3]] = nil
        directories[joiner] = ActivationDirectory(local: joiner, members: next)
        var handOffs: [DirectoryHandOff] = []
        for member in next where member != joiner { handOffs += directories[member]!.updateMembers(next) }
        for handOff in handOffs {
            #expect(handOff.entries.allSatisfy { $0.address.node != hosts[3] })
            #expect(directories[handOff.target]!.acceptHandOff(handOff).isEmpty)
        }
        let ring = HashRing(members: next)
        for (key, address) in registered {
            var owner = directories[ring.owner(of: key)!]!
            if address.node == hosts[3] {
                #expect(owner.lookup(key) == .notFound)
            } else if let lost = HashRing(members: Self.members).owner(of: key), lost == hosts[3] {
                // The partition died with node-3: the host re-registers (recovery rule).
                #expect(ActivationDirectory.reRegistrations(of: [key], from: HashRing(members: Self.members), to: ring) == [key])
            } else {
                #expect(owner.lookup(key) == .found(address))
            }
        }
    }

    @Test("a hand-off that meets a live entry keeps it and reports the loser")
    func handOffConflict() {
        let key = "key-6"
        let owner = HashRing(members: Self.members).owner(of: key)!
        var directory = ActivationDirectory(local: owner, members: Self.members)
        let winner = ActivationAddress(node: Self.members[0], epoch: 1)
        let loser = ActivationAddress(node: Self.members[1], epoch: 2)
        _ = directory.register(key, address: winner)
        let conflicts = directory.acceptHandOff(DirectoryHandOff(target: owner, entries: [DirectoryEntry(key: key, address: loser)]))
        #expect(conflicts == [DirectoryConflict(key: key, winner: winner, loser: loser)])
        #expect(directory.lookup(key) == .found(winner))
    }

    @Test("hand-offs are split into batches of the configured size and sorted by key")
    func handOffBatches() {
        let first = Self.members[0]
        var directory = ActivationDirectory(local: first, members: [first], settings: DirectorySettings(handOffBatchLimit: 10))
        for index in 0..<100 { _ = directory.register("key-\(index)", address: ActivationAddress(node: first, epoch: 1)) }
        let handOffs = directory.updateMembers([first, Self.members[1]])
        #expect(handOffs.allSatisfy { $0.entries.count <= 10 && $0.target == Self.members[1] })
        let moved = handOffs.flatMap(\.entries).map(\.key)
        #expect(moved == moved.sorted())
        #expect(moved.count + directory.count == 100)
    }
}

@Suite("DirectoryCache")
struct DirectoryCacheTests {
    @Test("the cache holds at most its capacity and forgets invalidated keys")
    func bounded() {
        var cache = DirectoryCache(capacity: 50, random: SeededRandom(seed: 1))
        let node = NodeID(name: "a", uid: 1)
        for index in 0..<500 { cache.store("key-\(index)", ActivationAddress(node: node, epoch: UInt64(index))) }
        #expect(cache.count == 50)
        #expect(cache.evictions == 450)
        cache.store("key-x", ActivationAddress(node: node, epoch: 1))
        #expect(cache.address(of: "key-x") != nil)
        cache.invalidate("key-x")
        #expect(cache.address(of: "key-x") == nil)
        #expect(cache.count == 49)
    }

    @Test("entries pointing at departed nodes are dropped")
    func dropDeparted() {
        let a = NodeID(name: "a", uid: 1)
        let b = NodeID(name: "b", uid: 2)
        var cache = DirectoryCache(capacity: 100, random: SeededRandom(seed: 1))
        for index in 0..<20 { cache.store("key-\(index)", ActivationAddress(node: index % 2 == 0 ? a : b, epoch: 1)) }
        cache.dropEntries(notOn: HashRing(members: [a]))
        #expect(cache.count == 10)
        #expect(cache.address(of: "key-1") == nil)
        #expect(cache.address(of: "key-0")?.node == a)
    }
}
