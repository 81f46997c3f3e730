import LocalityCore

/// Gossip rounds, push-pull, join and leave (SWIM §4.1; memberlist state.go gossip,
/// pushPull, mergeState; memberlist.go Join / Leave).
extension SWIMCore {
    /// Joins through `seeds`: a push-pull (`isJoin`) over a stream to each seed.
    public mutating func join(seeds: [NodeAddress], now: Timestamp) -> [SWIMDirective] {
        let states = fullState()
        return seeds.filter { $0 != address }.map { seed in
            .send(envelope(.pushPull(isJoin: true, isReply: false, states: states)), to: seed, via: .stream)
        }
    }

    /// Graceful leave: gossips `left` about ourselves at once to `gossipNodes` members and
    /// keeps gossiping it on later ticks; probing and push-pull stop.
    public mutating func leave(now: Timestamp) -> [SWIMDirective] {
        guard !hasLeft else { return [] }
        hasLeft = true
        probe = nil
        selfState.status = .left
        broadcasts.enqueue(GossipUpdate(state: selfState, origin: id))
        var out: [SWIMDirective] = []
        gossipRound(now: now, into: &out)
        return out
    }

    /// SWIM §4.1: every gossip interval, send queued updates to `gossipNodes` random
    /// members; nothing is sent when the queue is empty. As memberlist's gossip, the
    /// targets are alive, suspect or dead for less than `gossipToTheDeadTime`.
    mutating func gossipRound(now: Timestamp, into out: inout [SWIMDirective]) {
        guard !broadcasts.isEmpty else { return }
        let deadSince = now - settings.gossipToTheDeadTime
        for slot in table.randomGossipTargets(settings.gossipNodes, deadSince: deadSince, random: &random) {
            let directive = datagram(.gossip, to: table[slot].address)
            guard case let .send(envelope, _, _) = directive, !envelope.gossip.isEmpty else { break }
            out.append(directive)
        }
    }

    /// memberlist pushPull: exchange the full state with one random live member.
    mutating func startPushPull(now: Timestamp, into out: inout [SWIMDirective]) {
        guard let slot = table.randomLive(1, excluding: nil, random: &random).first else { return }
        let message = SWIMMessage.pushPull(isJoin: false, isReply: false, states: fullState())
        pushPullPartner = table[slot].address
        out.append(.send(envelope(message), to: table[slot].address, via: .stream))
    }

    /// Every member we hold, ourselves included.
    func fullState() -> [MemberState] {
        var states = [selfState]
        states.reserveCapacity(table.count + 1)
        for record in table.records where record.occupied { states.append(record.state) }
        return states
    }

    /// memberlist mergeState: `alive` and `left` apply as gossip; a remote `suspect` or
    /// `dead` only makes us suspect the member (we do not declare a death on hearsay from
    /// one push-pull), with the remote as the suspicion's origin.
    mutating func merge(_ states: [MemberState], from sender: NodeID, now: Timestamp, into out: inout [SWIMDirective]) {
        for state in states {
            switch state.status {
            case .alive, .left:
                apply(GossipUpdate(state: state, origin: sender), now: now, into: &out)
            case .suspect, .dead:
                var suspected = state
                suspected.status = .suspect
                applySuspect(GossipUpdate(state: suspected, origin: sender), now: now, into: &out)
            }
        }
    }
}
