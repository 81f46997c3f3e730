#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LocalityCore

/// The crashes and joins of one directory experiment, drawn from the seed up front:
/// membership changes arrive as a Poisson process of rate `churnRate` during the churn
/// window, half crashes of a random live node (never below `minLiveFraction`), half joins.
/// A join restarts a crashed name under a new `uid` when one is free, else adds a new name.
struct ChurnPlan {
    enum Kind {
        case crash(Int)
        case join(Int)
    }

    struct Change {
        var time: Timestamp
        var kind: Kind
        var members: [NodeID]
        /// Slots alive after the change (they receive the view).
        var recipients: [Int]
    }

    /// Identity of every node slot: the initial nodes first, then one slot per join.
    var identities: [NodeID]
    var changes: [Change] = []
    var churnStart: Timestamp
    var checkStart: Timestamp
    var end: Timestamp
    /// Slots alive at the end, ascending.
    var finalSlots: [Int]
    var finalMembers: [NodeID] { finalSlots.map { identities[$0] } }

    init(settings: DirectorySimSettings, random: inout SeededRandom) {
        var ids = (0..<settings.nodes).map { NodeID(name: "n\($0)", uid: random.next()) }
        churnStart = .zero + settings.warmup
        let churnEnd = churnStart + settings.churnDuration
        checkStart = churnEnd + settings.quiet
        end = checkStart + settings.checkDuration + settings.drain
        var live = Array(0..<settings.nodes)
        var crashedNames: [String] = []
        var nextName = settings.nodes
        let minimumLive = max(1, Int((Double(settings.nodes) * settings.minLiveFraction).rounded(.up)))
        var time = churnStart
        while settings.churnRate > 0 {
            // Exponential inter-arrival time of a Poisson process.
            let gap = -log(1 - random.nextUnit()) / settings.churnRate
            time = time + .nanoseconds(Int64(gap * 1e9))
            guard time < churnEnd else { break }
            let kind: Kind
            if random.next() % 2 == 0, live.count > minimumLive {
                let victim = live.remove(at: Int(random.next() % UInt64(live.count)))
                crashedNames.append(ids[victim].name)
                kind = .crash(victim)
            } else {
                let name: String
                if crashedNames.isEmpty {
                    name = "n\(nextName)"
                    nextName += 1
                } else {
                    name = crashedNames.removeFirst()
                }
                ids.append(NodeID(name: name, uid: random.next()))
                live.append(ids.count - 1)
                kind = .join(ids.count - 1)
            }
            live.sort()
            changes.append(Change(time: time, kind: kind, members: live.map { ids[$0] }, recipients: live))
        }
        identities = ids
        finalSlots = live
    }
}
