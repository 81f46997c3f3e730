import LocalityCore

/// The probe this member is running (SWIM §3.1, Lifeguard §IV.A).
struct ActiveProbe: Sendable {
    var target: NodeID
    var targetAddress: NodeAddress
    var sequence: UInt32
    /// Direct ping unanswered by then → ping-req through K others and a stream ping.
    var indirectAt: Timestamp
    /// Still unanswered by then → suspect (end of the protocol period).
    var endAt: Timestamp
    var indirectSent = false
    var expectedNacks = 0
    var nacks = 0

    var nextStep: Timestamp { indirectSent ? endAt : indirectAt }
}

/// Why a stream send failed, as the shell reports it to `SWIMCore.streamFailed`.
public enum SWIMStreamFailure: Sendable, Hashable {
    /// The connection was refused (ECONNREFUSED, a TCP RST to the SYN): no process listens
    /// at the address.
    case refused
    /// Any other failure: a timeout, a reset after connecting, a local overload.
    case other
}

/// An indirect probe run on behalf of another member (SWIM §3.1 ping-req).
struct Relay: Sendable {
    var requester: NodeAddress
    var requesterSequence: UInt32
    var target: NodeID
    var wantsNack: Bool
}

extension SWIMCore {
    /// Steps the current probe and starts the next one when its period is due.
    mutating func advanceProbe(now: Timestamp, into out: inout [SWIMDirective]) {
        if var current = probe {
            if !current.indirectSent, now >= current.indirectAt {
                sendIndirectProbes(&current, into: &out)
                probe = current
            }
            if now >= current.endAt {
                probe = nil
                probeFailed(current, now: now, into: &out)
            }
        }
        if probe == nil, now >= nextProbeAt { startProbe(now: now, into: &out) }
    }

    /// SWIM §3.1: ping this epoch's member of the `ProbeSchedule` rotation. Lifeguard
    /// §IV.A: the timeout and the period are scaled by the local health multiplier; a
    /// healthy member starts its next probe at its slot in the next epoch.
    mutating func startProbe(now: Timestamp, into out: inout [SWIMDirective]) {
        let period = health.scale(settings.probeInterval)
        nextProbeAt = health.score == 0 ? probeSchedule.nextSlot(after: now) : now + period
        let epoch = probeSchedule.epoch(at: now)
        guard let slot = probeSchedule.target(epoch: epoch, table: table) else { return }
        let target = table[slot].state
        let sequence = nextSequence()
        probe = ActiveProbe(
            target: target.id, targetAddress: target.address, sequence: sequence,
            indirectAt: now + health.scale(settings.probeTimeout), endAt: now + period)
        // Lifeguard §IV.C buddy system: a suspect learns of its suspicion from its prober first.
        let buddy = target.status == .suspect ? GossipUpdate(state: target, origin: id) : nil
        out.append(datagram(.ping(sequence: sequence, target: target.id), to: target.address, first: buddy))
    }

    /// SWIM §3.1 ping-req to K random members (with Lifeguard §IV.A nacks), plus a stream
    /// ping as memberlist does, for members reachable by TCP but not UDP.
    mutating func sendIndirectProbes(_ current: inout ActiveProbe, into out: inout [SWIMDirective]) {
        current.indirectSent = true
        let excluded = table.slot(of: current.target)
        let helpers = table.randomLive(settings.indirectChecks, excluding: excluded, random: &random)
        for helper in helpers {
            let request = SWIMMessage.pingRequest(
                sequence: current.sequence, target: current.target, targetAddress: current.targetAddress,
                wantsNack: true)
            out.append(datagram(request, to: table[helper].address))
        }
        current.expectedNacks = helpers.count
        let ping = SWIMMessage.ping(sequence: current.sequence, target: current.target)
        out.append(.send(envelope(ping), to: current.targetAddress, via: .stream))
    }

    /// No ack by the end of the period: Lifeguard §IV.A raises the local health score by
    /// the missing nacks (or by one without helpers), then SWIM §4.2 suspects the target.
    mutating func probeFailed(_ failed: ActiveProbe, now: Timestamp, into out: inout [SWIMDirective]) {
        if failed.expectedNacks > 0 {
            health.apply(max(0, failed.expectedNacks - failed.nacks))
        } else {
            health.apply(1)
        }
        guard let slot = table.slot(of: failed.target) else { return }
        var accused = table[slot].state
        guard accused.status == .alive || accused.status == .suspect else { return }
        accused.status = .suspect
        apply(GossipUpdate(state: accused, origin: id), now: now, into: &out)
    }

    /// Ours (not in SWIM/Lifeguard): the stream ping of the current probe was refused, so no
    /// process listens at the target's address — a paused process keeps its listening socket
    /// and the kernel still completes the handshake. Declared dead at once with ourselves as
    /// origin, as an expired suspicion would (SWIM §4.2). Only for the exact address of the
    /// member probed this period, after its stream ping left and before any ack (an ack
    /// clears `probe`).
    mutating func probeRefused(_ address: NodeAddress, now: Timestamp, into out: inout [SWIMDirective]) {
        guard settings.refusedConnectionMeansDead, !hasLeft, let current = probe, current.indirectSent,
            current.targetAddress == address, let slot = table.slot(of: current.target)
        else { return }
        var declared = table[slot].state
        guard declared.status == .alive || declared.status == .suspect else { return }
        probe = nil
        declared.status = .dead
        applyDead(GossipUpdate(state: declared, origin: id), now: now, into: &out)
    }

    mutating func handleAck(sequence: UInt32, target: NodeID, now: Timestamp, into out: inout [SWIMDirective]) {
        if let current = probe, current.sequence == sequence, current.target == target {
            probe = nil
            // memberlist probeNode: only a direct, in-time ack counts as proof of our own health.
            if !current.indirectSent { health.apply(-1) }
            return
        }
        if let relay = relays.removeValue(forKey: sequence), relay.target == target {
            out.append(datagram(.ack(sequence: relay.requesterSequence, target: target), to: relay.requester))
        }
    }

    /// Probes `target` for a requester; the ack is forwarded, a timeout answers a nack.
    /// Bounded by `maxRelays`: over it the request is dropped.
    mutating func relayProbe(
        for requester: NodeAddress, sequence: UInt32, target: NodeID, targetAddress: NodeAddress,
        wantsNack: Bool, now: Timestamp, into out: inout [SWIMDirective]
    ) {
        guard relays.count < settings.maxRelays else { return }
        let local = nextSequence()
        relays[local] = Relay(
            requester: requester, requesterSequence: sequence, target: target, wantsNack: wantsNack)
        // The nack must reach the requester before its probe period ends (its ping-req left
        // one probe timeout into a period of two): answer after 80% of a probe timeout.
        schedule(.relay(local), at: now + settings.probeTimeout.scaled(by: 0.8))
        out.append(datagram(.ping(sequence: local, target: target), to: targetAddress))
    }

    mutating func fire(_ timer: SWIMTimer, now: Timestamp, into out: inout [SWIMDirective]) {
        switch timer.kind {
        case let .relay(sequence):
            guard let relay = relays.removeValue(forKey: sequence) else { return }
            if relay.wantsNack {
                out.append(datagram(.nack(sequence: relay.requesterSequence), to: relay.requester))
            }
        case let .suspicion(member):
            suspicionMayExpire(member, now: now, into: &out)
        case let .reap(member):
            reapIfDue(member, now: now, into: &out)
        }
    }
}
