import LocalityCore

/// Applying membership updates with SWIM's incarnation precedence (SWIM §4.2; memberlist
/// state.go aliveNode / suspectNode / deadNode):
/// - `alive` overrides only a strictly higher incarnation;
/// - `suspect` overrides `alive` at an equal or higher incarnation;
/// - `dead` / `left` override `alive` or `suspect` at an equal or higher incarnation;
/// - nothing overrides `dead` / `left` except `alive` with a higher incarnation.
extension SWIMCore {
    mutating func apply(_ update: GossipUpdate, now: Timestamp, into out: inout [SWIMDirective]) {
        switch update.state.status {
        case .alive: applyAlive(update, now: now, into: &out)
        case .suspect: applySuspect(update, now: now, into: &out)
        case .dead, .left: applyDead(update, now: now, into: &out)
        }
    }

    mutating func applyAlive(_ update: GossipUpdate, now: Timestamp, into out: inout [SWIMDirective]) {
        let state = update.state
        if state.id == id {
            // Someone claims our id with a newer incarnation: refute it (memberlist aliveNode).
            if state.incarnation > selfState.incarnation, !hasLeft { refute(accused: state.incarnation) }
            return
        }
        guard state.metadata.count <= settings.maxMetadataBytes else { return }
        guard let slot = table.slot(of: state.id) else {
            if let tombstone = tombstones[state.id], tombstone.expiresAt > now,
                state.incarnation <= tombstone.incarnation
            {
                return
            }
            guard table.insert(state, now: now) != nil else { return }
            tombstones.removeValue(forKey: state.id)
            broadcasts.enqueue(update)
            out.append(.event(.statusChanged(state, previous: nil)))
            return
        }
        // Field reads first: most gossip is a duplicate and must not copy the record.
        guard state.incarnation > table[slot].incarnation else { return }
        let previousStatus = table[slot].status
        table[slot].state = state
        if previousStatus != .alive { suspicions.removeValue(forKey: slot) }
        if previousStatus != .alive {
            table[slot].changedAt = now
            if table[slot].liveIndex < 0 { table.markLive(slot) }
            out.append(.event(.statusChanged(state, previous: previousStatus)))
        }
        broadcasts.enqueue(update)
    }

    mutating func applySuspect(_ update: GossipUpdate, now: Timestamp, into out: inout [SWIMDirective]) {
        let state = update.state
        if state.id == id {
            // SWIM §4.2: only we may refute a suspicion of ourselves, by a higher incarnation.
            if state.incarnation >= selfState.incarnation, !hasLeft { refute(accused: state.incarnation) }
            return
        }
        guard let slot = table.slot(of: state.id) else { return }
        guard state.incarnation >= table[slot].incarnation else { return }
        let previousStatus = table[slot].status
        if previousStatus == .suspect, var suspicion = suspicions[slot] {
            // Lifeguard §IV.B: an independent suspicion shortens the timeout; re-gossip it.
            if state.incarnation == suspicion.incarnation, suspicion.confirm(from: update.origin) {
                suspicions[slot] = suspicion
                // A confirmation can shorten the timeout below the time already elapsed: the
                // timer is due now (memberlist suspicion.Confirm fires at once), not in the
                // past, where the next tick would look overdue and be taken for a stall.
                schedule(.suspicion(state.id), at: max(suspicion.deadline, now))
                broadcasts.enqueue(update)
            }
            return
        }
        guard previousStatus == .alive else { return }
        var suspected = table[slot].state
        suspected.incarnation = state.incarnation
        suspected.status = .suspect
        table[slot].state = suspected
        table[slot].changedAt = now
        let bounds = SuspicionTimeout(memberCount: liveMemberCount, settings: settings)
        let suspicion = Suspicion(incarnation: state.incarnation, from: update.origin, startedAt: now, bounds: bounds)
        suspicions[slot] = suspicion
        schedule(.suspicion(state.id), at: suspicion.deadline)
        broadcasts.enqueue(GossipUpdate(state: suspected, origin: update.origin))
        out.append(.event(.statusChanged(suspected, previous: .alive)))
    }

    mutating func applyDead(_ update: GossipUpdate, now: Timestamp, into out: inout [SWIMDirective]) {
        let state = update.state
        if state.id == id {
            if state.incarnation >= selfState.incarnation, !hasLeft { refute(accused: state.incarnation) }
            return
        }
        guard let slot = table.slot(of: state.id) else { return }
        let previousStatus = table[slot].status
        guard state.incarnation >= table[slot].incarnation, previousStatus == .alive || previousStatus == .suspect
        else { return }
        var declared = table[slot].state
        declared.incarnation = state.incarnation
        declared.status = state.status
        table[slot].state = declared
        table[slot].changedAt = now
        table.markNotLive(slot)
        suspicions.removeValue(forKey: slot)
        scheduleReap(state.id, at: now + settings.reapAfter)
        broadcasts.enqueue(GossipUpdate(state: declared, origin: update.origin))
        out.append(.event(.statusChanged(declared, previous: previousStatus)))
    }

    /// SWIM §4.2 / Lifeguard §IV.A: raise our incarnation above the accusation, gossip that
    /// we are alive, and count the refutation against our local health.
    mutating func refute(accused: UInt64) {
        selfState.incarnation = max(selfState.incarnation, accused) + 1
        health.apply(1)
        broadcasts.enqueue(GossipUpdate(state: selfState, origin: id))
    }

    /// A suspicion timer fired: if the suspicion still stands and its (possibly shortened)
    /// deadline has passed, declare the member dead (SWIM §4.2).
    mutating func suspicionMayExpire(_ member: NodeID, now: Timestamp, into out: inout [SWIMDirective]) {
        guard let slot = table.slot(of: member), let suspicion = suspicions[slot], suspicion.deadline <= now,
            table[slot].status == .suspect
        else { return }
        var declared = table[slot].state
        declared.status = .dead
        applyDead(GossipUpdate(state: declared, origin: id), now: now, into: &out)
    }

    mutating func scheduleReap(_ member: NodeID, at deadline: Timestamp) {
        schedule(.reap(member), at: deadline)
    }

    /// Forgets a member dead or left for `reapAfter`, keeping a tombstone of its incarnation.
    mutating func reapIfDue(_ member: NodeID, now: Timestamp, into out: inout [SWIMDirective]) {
        guard let slot = table.slot(of: member) else { return }
        let record = table[slot]
        guard record.status == .dead || record.status == .left,
            record.changedAt + settings.reapAfter <= now
        else { return }
        table.remove(slot)
        suspicions.removeValue(forKey: slot)
        broadcasts.remove(member)
        addTombstone(member, incarnation: record.incarnation, now: now)
        out.append(.event(.removed(member)))
    }

    /// Tombstones are bounded by `maxMembers`; the oldest is dropped first.
    mutating func addTombstone(_ member: NodeID, incarnation: UInt64, now: Timestamp) {
        while let oldest = tombstoneOrder.first {
            let expired = (tombstones[oldest]?.expiresAt ?? now) <= now
            guard expired || tombstoneOrder.count >= settings.maxMembers else { break }
            tombstoneOrder.removeFirst()
            tombstones.removeValue(forKey: oldest)
        }
        tombstones[member] = Tombstone(incarnation: incarnation, expiresAt: now + settings.tombstoneTTL)
        tombstoneOrder.append(member)
    }
}
