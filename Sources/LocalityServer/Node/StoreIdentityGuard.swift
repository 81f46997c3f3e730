import LocalityCore
import LocalityMembership
import LocalityPlacement
import LocalityRouting
import Logging
import ServiceLifecycle

/// One ground truth per cluster: watches the members' advertised store identities
/// (`store=` in their gossip metadata, see `StoreIdentity`) against this node's.
///
/// A node that joins through seeds and finds, within `joinWindow` of its start, a live
/// member on another store refuses to join: this service throws, the node leaves its
/// service group and exits non-zero with an error naming both stores. Past the window
/// (or on a node started without seeds, which founds the cluster) a newcomer on another
/// store is logged as an error; in every case the ring never routes keys to a member on
/// another store (`MembershipRingFeed.routableMembers`), so no key moves to a store that
/// has not seen its state. The same holds for the ring algorithm (`ring=`): members that
/// map keys differently would disagree on every key's owner.
struct StoreIdentityGuard: Service {
    let localNode: NodeID
    let storeIdentity: String
    let storeLocation: String
    let ringAlgorithm: RingAlgorithm
    let membership: GossipMembership
    let refusesToJoin: Bool
    let joinWindow: Duration
    let logger: Logger

    func run() async throws {
        let started = ContinuousClock.now
        var reported = Set<NodeID>()
        for await event in membership.events().cancelOnGracefulShutdown() {
            guard case .statusChanged(let member, _) = event, member.id != localNode, member.status == .alive else { continue }
            let theirs = MembershipRingFeed.value(of: MembershipRingFeed.storeKey, in: member.metadata) ?? "none"
            let theirRing = MembershipRingFeed.ringAlgorithm(in: member.metadata)
            guard theirs != storeIdentity || theirRing != ringAlgorithm.rawValue else { continue }
            let problem = theirs == storeIdentity ? """
                member \(member.id.name) (\(member.address)) maps keys to members with the ring algorithm '\(theirRing)'; \
                this node uses '\(ringAlgorithm.rawValue)'. Every member of a cluster must use one, or they disagree on owners: \
                start every node with the same --ring (to upgrade a cluster from vnodes, restart all nodes together, or \
                keep --ring vnodes on the new version; docs/placement.md)
                """ : """
                member \(member.id.name) (\(member.address)) serves keys from the store with identity \(theirs); \
                this node's store \(storeLocation) has identity \(storeIdentity). Every member of a cluster must share one \
                store, or keys that move between nodes lose their state: start every node with the same --store, e.g. \
                --store postgres://USER:PASSWORD@HOST:PORT/DATABASE (or one sqlite:PATH file when every node runs on one host)
                """
            if refusesToJoin, ContinuousClock.now - started < joinWindow {
                throw LocalityError(.conflict, "refusing to join the cluster: \(problem)")
            }
            if reported.insert(member.id).inserted {
                logger.error("a member is kept off the ring: \(problem)")
            }
        }
        // The events end when membership stops: if it failed, its own error is the one to
        // report, so wait for the shutdown that failure starts instead of ending first.
        if !Task.isCancelled { try? await gracefulShutdown() }
    }
}
