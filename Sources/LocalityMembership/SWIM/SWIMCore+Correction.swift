import LocalityCore

/// Stale-gossip correction (our addition to SWIM/memberlist, see docs/membership.md).
///
/// Under heavy loss a member can miss every copy of a refutation and keep an old
/// suspicion until its timer declares a live member dead. It still piggy-backs that old
/// suspicion on its own packets, so whoever receives it and knows better answers the
/// sender directly with the newer `alive` state. One answer per received packet, only
/// when stale `suspect`/`dead` gossip arrives: no cost while gossip is current.
extension SWIMCore {
    /// Our newer state for the member `update` is about, when the update is an accusation
    /// older than what we know of a member alive at a higher incarnation (ourselves included).
    func newerKnowledge(than update: GossipUpdate) -> GossipUpdate? {
        let accused = update.state
        guard accused.status == .suspect || accused.status == .dead else { return nil }
        if accused.id == id {
            guard !hasLeft, accused.incarnation < selfState.incarnation else { return nil }
            return GossipUpdate(state: selfState, origin: id)
        }
        guard let slot = table.slot(of: accused.id), table[slot].status == .alive,
            accused.incarnation < table[slot].incarnation
        else { return nil }
        return GossipUpdate(state: table[slot].state, origin: id)
    }

    /// A gossip datagram carrying `updates` (as many as fit) straight back to `destination`.
    func correction(_ updates: [GossipUpdate], to destination: NodeAddress) -> SWIMDirective {
        var budget = settings.maxPacketBytes - settings.envelopeOverheadBytes - id.encodedSize - address.encodedSize
        var fitting: [GossipUpdate] = []
        for update in updates where update.encodedSize <= budget {
            fitting.append(update)
            budget -= update.encodedSize
        }
        return .send(envelope(.gossip, gossip: fitting), to: destination, via: .datagram)
    }
}
