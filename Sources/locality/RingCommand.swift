import ArgumentParser
import Foundation
import LocalityCore
import LocalityPlacement

/// `locality ring`: builds a ring over `node-0…node-(N-1)`, places `key-0…key-(K-1)` and
/// prints balance, movement on add/remove, lookup throughput and memory as one JSON object.
struct RingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ring",
        abstract: "Measure the consistent-hash ring (balance, movement, lookups/s) and print JSON."
    )

    @Option(help: "Members (node-0 … node-(N-1)).")
    var nodes: Int = 10

    @Option(help: "Virtual nodes per member (--algorithm vnodes).")
    var vnodes: Int = 256

    @Option(help: "vnodes (Karger's ring of virtual nodes) or buckets (rendezvous hashing over a bucket table).")
    var algorithm: String = RingAlgorithm.virtualNodes.rawValue

    @Option(help: "log2 of the bucket table size (--algorithm buckets), 8…24.")
    var bucketBits: Int = 18

    @Option(help: "Keys (key-0 … key-(K-1)).")
    var keys: Int = 1_000_000

    @Option(help: "Bounded loads with c = 1+ε (e.g. 1.25): keys are assigned in order, each to the first member along its walk below ⌈c·(m+1)/n⌉.")
    var bounded: Double?

    @Option(help: "Minimum seconds spent measuring lookup throughput.")
    var lookupSeconds: Double = 1.0

    @Flag(help: "Print JSON (the only output format).")
    var json: Bool = false

    func validate() throws {
        guard nodes >= 2 else { throw ValidationError("--nodes must be at least 2") }
        guard vnodes >= 1 else { throw ValidationError("--vnodes must be at least 1") }
        guard keys >= 1 else { throw ValidationError("--keys must be at least 1") }
        if let bounded, !(bounded >= 1.0) { throw ValidationError("--bounded must be >= 1.0") }
        guard RingAlgorithm(rawValue: algorithm) != nil else { throw ValidationError("--algorithm must be vnodes or buckets") }
        guard (8...24).contains(bucketBits) else { throw ValidationError("--bucket-bits must be 8…24") }
    }

    func run() throws {
        let settings = RingSettings(
            virtualNodesPerMember: vnodes, algorithm: RingAlgorithm(rawValue: algorithm) ?? .virtualNodes, bucketBits: bucketBits)
        let members = (0..<nodes).map { NodeID(name: "node-\($0)", uid: UInt64($0) + 1) }
        let keyStrings = (0..<keys).map { "key-\($0)" }
        let hashes = keyStrings.map(HashRing.keyHash)

        let buildStart = ContinuousClock.now
        let ring = HashRing(members: members, settings: settings)
        let buildSeconds = (ContinuousClock.now - buildStart) / .seconds(1)
        let grown = HashRing(members: members + [NodeID(name: "node-\(nodes)", uid: UInt64(nodes) + 1)], settings: settings)
        let shrunk = HashRing(members: Array(members.dropLast()), settings: settings)

        let owners = RingPlacement.assign(hashes, on: ring, bounded: bounded)
        let loads = RingPlacement.loads(owners, memberCount: ring.members.count)
        let mean = Double(keys) / Double(nodes)
        let maxLoad = loads.max() ?? 0
        let minLoad = loads.min() ?? 0
        let variance = loads.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(nodes)

        let movedOnAdd = RingPlacement.movedFraction(owners, on: ring, RingPlacement.assign(hashes, on: grown, bounded: bounded), on: grown)
        let movedOnRemove = RingPlacement.movedFraction(owners, on: ring, RingPlacement.assign(hashes, on: shrunk, bounded: bounded), on: shrunk)
        let lookups = RingPlacement.lookupsPerSecond(keyStrings, on: ring, minimumSeconds: lookupSeconds)

        var output: [String: Any] = [
            "nodes": nodes,
            "vnodes": vnodes,
            "algorithm": algorithm,
            "bucket_bits": bucketBits,
            "build_ms": buildSeconds * 1000,
            "moved_on_add_over_ideal": movedOnAdd * Double(nodes + 1),
            "moved_on_remove_over_ideal": movedOnRemove * Double(nodes),
            "keys": keys,
            "max_over_mean": Double(maxLoad) / mean,
            "min_over_mean": Double(minLoad) / mean,
            "stddev_over_mean": variance.squareRoot() / mean,
            "moved_fraction_on_add": movedOnAdd,
            "ideal_moved_fraction": 1.0 / Double(nodes + 1),
            "moved_fraction_on_remove": movedOnRemove,
            "ideal_moved_fraction_on_remove": 1.0 / Double(nodes),
            "lookups_per_s": lookups.perSecond,
            // Sum of owners seen in the timed loop: printed so the loop cannot be optimized away.
            "lookup_owner_checksum": lookups.checksum,
            "ring_memory_bytes": ring.memoryBytes,
            "ring_points": ring.pointCount,
            "ring_checksum": String(ring.checksum, radix: 16),
        ]
        output["bounded_factor"] = bounded.map { $0 as Any } ?? NSNull()
        let data = try JSONSerialization.data(withJSONObject: output, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}

/// The measurements behind `locality ring`, on member indices (no strings in the loops).
enum RingPlacement {
    /// Owner index per key hash: plain ring owner, or bounded loads in key order.
    static func assign(_ hashes: [UInt64], on ring: HashRing, bounded: Double?) -> [Int32] {
        if let bounded {
            var assignment = BoundedLoadAssignment(ring: ring, factor: bounded)
            return hashes.map { Int32(assignment.assign(hash: $0) ?? -1) }
        }
        return hashes.map { Int32(ring.ownerIndex(forHash: $0) ?? -1) }
    }

    static func loads(_ owners: [Int32], memberCount: Int) -> [Int] {
        var loads = [Int](repeating: 0, count: memberCount)
        for owner in owners where owner >= 0 { loads[Int(owner)] += 1 }
        return loads
    }

    /// Fraction of keys whose owner (compared as `NodeID`) differs between two rings.
    static func movedFraction(_ before: [Int32], on old: HashRing, _ after: [Int32], on new: HashRing) -> Double {
        let translate = old.members.map { new.index(of: $0).map(Int32.init) ?? -1 }
        var moved = 0
        for (a, b) in zip(before, after) where a < 0 || translate[Int(a)] != b { moved += 1 }
        return Double(moved) / Double(max(1, before.count))
    }

    /// Lookups per second on one thread: hash the key string, binary-search the points.
    static func lookupsPerSecond(_ keys: [String], on ring: HashRing, minimumSeconds: Double) -> (perSecond: Double, checksum: Int) {
        let clock = ContinuousClock()
        var checksum = 0
        var done = 0
        let start = clock.now
        var elapsed = 0.0
        repeat {
            for key in keys { checksum &+= ring.ownerIndex(of: key) ?? 0 }
            done += keys.count
            let duration = clock.now - start
            elapsed = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        } while elapsed < minimumSeconds
        return (Double(done) / elapsed, checksum)
    }
}
