import LocalityCore
import LocalityMembership
import LocalityPlacement
import Synchronization

/// JSON shapes of the cluster endpoints (`/v1/cluster/…`). A 64-bit uid travels as a
/// string: JavaScript numbers lose precision beyond 2^53.
enum ClusterViews {
    struct Node: Codable, Equatable {
        var name: String
        var uid: String
        init(_ id: NodeID) {
            name = id.name
            uid = String(id.uid)
        }
    }

    struct Member: Codable {
        var name: String
        var uid: String
        var address: String
        var state: String
        var incarnation: UInt64
        /// `key=value` pairs of the member's metadata (`transport`, `http`, …); text that
        /// is not such pairs appears under `raw`.
        var metadata: [String: String]
    }

    struct Members: Codable {
        var node: Node?
        var members: [Member]
    }

    struct RingMember: Codable {
        var name: String
        var uid: String
        var address: String?
        /// The member's HTTP gateway, when it advertises one.
        var http: String?
        var vnodes: Int
        /// Fraction of the key space this member owns (0…1).
        var share: Double
    }

    struct Ring: Codable {
        var node: Node?
        /// `HashRing.checksum` in hex: equal on two nodes ⇒ same owner for every key.
        var checksum: String
        var vnodes: Int
        var members: [RingMember]
    }

    struct Lookup: Codable {
        var key: String
        var hash: String
        var owner: Node
        var address: String?
    }

    struct Activations: Codable {
        var node: Node?
        var kind: String?
        /// Live activations matching `kind` (all of them, even beyond `limit`).
        var count: Int
        var truncated: Bool
        var activations: [GatewayActivation]
    }

    struct Stats: Codable {
        var node: Node?
        var inFlight: Int
        var queued: Int
        var connections: Int
        var samples: [RequestStatsSample]
    }

    static func members(_ states: [MemberState], node: NodeID?) -> Members {
        let sorted = states.sorted { $0.id < $1.id }
        return Members(node: node.map(Node.init), members: sorted.map { state in
            Member(name: state.id.name, uid: String(state.id.uid), address: state.address.description,
                   state: state.status.description, incarnation: state.incarnation, metadata: metadataPairs(state.metadata))
        })
    }

    static func metadataPairs(_ bytes: [UInt8]) -> [String: String] {
        guard !bytes.isEmpty else { return [:] }
        let text = String(decoding: bytes, as: UTF8.self)
        var pairs: [String: String] = [:]
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { return ["raw": text] }
            pairs[String(parts[0])] = String(parts[1])
        }
        return pairs
    }

    /// Ring positions sampled to estimate each member's share of the key space.
    static let shareSamples = 65_536

    /// Each member's share of the key space, estimated from `shareSamples` evenly spaced
    /// ring positions (error well under 0.1 percentage point at 256 virtual nodes each).
    static func shares(of ring: HashRing) -> [Double] {
        guard !ring.isEmpty else { return [] }
        var counts = [Int](repeating: 0, count: ring.members.count)
        let step = UInt64.max / UInt64(shareSamples)
        for sample in 0..<UInt64(shareSamples) {
            if let index = ring.ownerIndex(forHash: sample &* step &+ step / 2) { counts[index] += 1 }
        }
        return counts.map { Double($0) / Double(shareSamples) }
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }
}

/// The last computed shares, keyed by ring checksum (the ring changes rarely; the
/// dashboard asks every second). Holds one entry.
final class RingShareCache: Sendable {
    private let cached = Mutex<(checksum: UInt64, shares: [Double])?>(nil)

    func shares(of ring: HashRing) -> [Double] {
        let checksum = ring.checksum
        if let hit = cached.withLock({ $0 }), hit.checksum == checksum { return hit.shares }
        let shares = ClusterViews.shares(of: ring)
        cached.withLock { $0 = (checksum, shares) }
        return shares
    }
}
