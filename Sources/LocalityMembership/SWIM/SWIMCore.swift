import Collections
import LocalityCore

/// The SWIM failure detector and membership protocol with the Lifeguard extensions, as a
/// pure, deterministic state machine (SWIM, Das et al. 2002; Lifeguard, Dadgar et al.
/// 2018; behaviour and defaults of hashicorp/memberlist).
///
/// The core does no IO and reads no clock: the shell feeds it received envelopes and the
/// current time, calls `tick(now:)` no later than `nextDeadline`, and executes the
/// returned directives in order. Same seed, same inputs → same directives.
public struct SWIMCore: Sendable {
    /// This member's identity.
    public let id: NodeID
    /// Where this member listens.
    public let address: NodeAddress
    /// The configuration.
    public let settings: SWIMSettings

    var random: SeededRandom
    /// This member's own state: only it raises its incarnation (SWIM §4.2).
    var selfState: MemberState
    var table: MemberTable
    var suspicions: [Int32: Suspicion] = [:]
    var broadcasts: BroadcastQueue
    var health: LocalHealth
    let probeSchedule: ProbeSchedule
    var probe: ActiveProbe?
    var relays: [UInt32: Relay] = [:]
    var timers = Heap<SWIMTimer>()
    var timerSequence: UInt64 = 0
    var tombstones: [NodeID: Tombstone] = [:]
    var tombstoneOrder = Deque<NodeID>()
    var sequence: UInt32 = 0
    var nextProbeAt: Timestamp
    var nextGossipAt: Timestamp
    var nextPushPullAt: Timestamp
    /// Set by `leave(now:)`: no more probes or push-pull, gossip continues to spread the leave.
    var hasLeft = false
    /// Set after a detected stall: timers wait until then (see `SWIMSettings.stallGrace`).
    var stallGraceUntil: Timestamp?
    /// The member of the current periodic push-pull, until its first failure is retried.
    var pushPullPartner: NodeAddress?
    /// Stalls detected so far (ticks later than `stallThreshold` past their deadline).
    public private(set) var stallsDetected = 0

    /// Creates the core for a member. `clockOffset` is wall-clock time minus `now` (zero in
    /// the simulator, whose virtual clock all members share): members agree on probe
    /// epochs through it (`ProbeSchedule`). Throws `LocalityError(.badRequest)` when
    /// `metadata` exceeds `settings.maxMetadataBytes`.
    public init(
        id: NodeID, address: NodeAddress, metadata: [UInt8], settings: SWIMSettings,
        random: SeededRandom, now: Timestamp, clockOffset: Duration = .zero
    ) throws {
        guard metadata.count <= settings.maxMetadataBytes else {
            throw LocalityError(
                .badRequest, "metadata of \(metadata.count) bytes exceeds maxMetadataBytes \(settings.maxMetadataBytes)")
        }
        self.id = id
        self.address = address
        self.settings = settings
        self.random = random
        self.selfState = MemberState(id: id, address: address, incarnation: 0, status: .alive, metadata: metadata)
        self.table = MemberTable(capacity: max(1, settings.maxMembers - 1))
        self.broadcasts = BroadcastQueue(capacity: max(1, settings.maxMembers))
        self.health = LocalHealth(maximum: settings.awarenessMaxMultiplier)
        // Random phases (memberlist staggers its tickers) so members do not probe in lockstep.
        self.probeSchedule = ProbeSchedule(
            interval: settings.probeInterval, clockOffset: clockOffset,
            phase: settings.probeInterval.scaled(by: self.random.nextUnit()), selfKey: MemberTable.scheduleKey(id))
        self.nextProbeAt = probeSchedule.nextSlot(after: now)
        self.nextGossipAt = now + settings.gossipInterval.scaled(by: self.random.nextUnit())
        self.nextPushPullAt = now + settings.pushPullInterval.scaled(by: 1 + self.random.nextUnit())
    }

    /// The full view, this member first, then the others ordered by id.
    public var members: [MemberState] {
        [selfState] + table.records.filter(\.occupied).map(\.state).sorted { $0.id < $1.id }
    }

    /// Lifeguard local health score, 0 (healthy) ..< awarenessMaxMultiplier.
    public var localHealth: Int { health.score }

    /// This member's current incarnation.
    public var incarnation: UInt64 { selfState.incarnation }

    /// Members alive or suspect, this member included (the `N` of SWIM's formulas).
    public var liveMemberCount: Int { table.live.count + 1 }

    /// When `tick(now:)` must next be called.
    public var nextDeadline: Timestamp {
        if let stallGraceUntil { return stallGraceUntil }
        // An empty broadcast queue needs no gossip round: skip those wake-ups.
        var deadline = broadcasts.isEmpty ? Timestamp(nanoseconds: .max) : nextGossipAt
        if !hasLeft {
            deadline = min(deadline, probe.map { $0.nextStep } ?? nextProbeAt)
            if settings.pushPullInterval > .zero { deadline = min(deadline, nextPushPullAt) }
        }
        if let timer = timers.min { deadline = min(deadline, timer.deadline) }
        return deadline
    }

    /// Starts from a known view (a static seed list, or the simulator's converged start):
    /// the members are added without being gossiped. Returns their first-seen events.
    public mutating func bootstrap(_ states: [MemberState], now: Timestamp) -> [SWIMDirective] {
        var out: [SWIMDirective] = []
        out.reserveCapacity(states.count)
        table.reserveCapacity(table.count + states.count)
        table.beginBulkLoad()
        defer { table.endBulkLoad() }
        for state in states where state.id != id && table.slot(of: state.id) == nil {
            guard state.metadata.count <= settings.maxMetadataBytes,
                table.insert(state, now: now) != nil
            else { continue }
            if state.status == .dead || state.status == .left { scheduleReap(state.id, at: now + settings.reapAfter) }
            out.append(.event(.statusChanged(state, previous: nil)))
        }
        return out
    }

    /// Runs every timer due at `now`: probe steps, gossip, push-pull, suspicion expiry,
    /// relay nacks and reaping.
    public mutating func tick(now: Timestamp) -> [SWIMDirective] {
        // Lifeguard §IV.A spirit: a member that was stalled is the slow one. Let the packets
        // that queued during the stall in before acting on timers that expired meanwhile.
        if let grace = stallGraceUntil {
            guard now >= grace else { return [] }
            stallGraceUntil = nil
        } else if now - nextDeadline > settings.stallThreshold {
            stallGraceUntil = now + settings.stallGrace
            stallsDetected += 1
            health.apply(1)
            return []
        }
        resumeGossipTicker(now: now)
        var out: [SWIMDirective] = []
        while let timer = timers.min, timer.deadline <= now {
            _ = timers.removeMin()
            fire(timer, now: now, into: &out)
        }
        if !hasLeft {
            advanceProbe(now: now, into: &out)
            if settings.pushPullInterval > .zero, now >= nextPushPullAt {
                nextPushPullAt = now + pushPullPeriod
                startPushPull(now: now, into: &out)
            }
        }
        if now >= nextGossipAt {
            nextGossipAt = now + settings.gossipInterval
            gossipRound(now: now, into: &out)
        }
        return out
    }

    /// Handles one received envelope. `via` tells which transport carried it (stream
    /// probes are answered on the stream, memberlist net.go).
    public mutating func receive(
        _ envelope: SWIMEnvelope, via transport: SWIMTransportKind = .datagram, now: Timestamp
    ) -> [SWIMDirective] {
        var out: [SWIMDirective] = []
        resumeGossipTicker(now: now)
        // Gossip first, so a refutation it triggers rides on our answer.
        var corrections: [GossipUpdate] = []
        for update in envelope.gossip {
            if let newer = newerKnowledge(than: update) {
                corrections.append(newer)
            } else {
                apply(update, now: now, into: &out)
            }
        }
        if !corrections.isEmpty, transport == .datagram {
            out.append(correction(corrections, to: envelope.senderAddress))
        }
        switch envelope.message {
        case let .ping(sequence, target):
            // A restarted member has a new uid: a ping for the old process is not ours to ack.
            guard target == id else { break }
            let ack = SWIMMessage.ack(sequence: sequence, target: id)
            if transport == .stream {
                out.append(.send(self.envelope(ack), to: envelope.senderAddress, via: .stream))
            } else {
                out.append(datagram(ack, to: envelope.senderAddress))
            }
        case let .pingRequest(sequence, target, targetAddress, wantsNack):
            relayProbe(
                for: envelope.senderAddress, sequence: sequence, target: target, targetAddress: targetAddress,
                wantsNack: wantsNack, now: now, into: &out)
        case let .ack(sequence, target):
            handleAck(sequence: sequence, target: target, now: now, into: &out)
        case let .nack(sequence):
            if probe?.sequence == sequence { probe?.nacks += 1 }
        case .gossip:
            break
        case let .pushPull(isJoin, isReply, states):
            merge(states, from: envelope.sender, now: now, into: &out)
            if !isReply {
                let reply = SWIMMessage.pushPull(isJoin: isJoin, isReply: true, states: fullState())
                out.append(.send(self.envelope(reply), to: envelope.senderAddress, via: .stream))
            }
        }
        return out
    }

    /// The shell reports that a stream send to `address` failed for `reason`. A refused
    /// connection to the member under probe may declare it dead at once (ours, see
    /// `refusedConnectionMeansDead`); any other failed fallback probe needs no action (the
    /// probe fails at the end of its period on its own). A failed periodic push-pull is
    /// retried once, at once, with another random live member, so a dead partner does not
    /// delay anti-entropy by a whole (scaled) push-pull period.
    public mutating func streamFailed(to address: NodeAddress, reason: SWIMStreamFailure, now: Timestamp)
        -> [SWIMDirective]
    {
        var out: [SWIMDirective] = []
        resumeGossipTicker(now: now)
        if reason == .refused { probeRefused(address, now: now, into: &out) }
        guard pushPullPartner == address, !hasLeft else { return out }
        pushPullPartner = nil
        let excluded = table.live.first { table[$0].address == address }
        if let slot = table.randomLive(1, excluding: excluded, random: &random).first {
            let message = SWIMMessage.pushPull(isJoin: false, isReply: false, states: fullState())
            out.append(.send(envelope(message), to: table[slot].address, via: .stream))
        }
        return out
    }

    /// `streamFailed(to:reason:now:)` with a failure of unknown kind (`.other`).
    public mutating func streamFailed(to address: NodeAddress, now: Timestamp) -> [SWIMDirective] {
        streamFailed(to: address, reason: .other, now: now)
    }

    // MARK: - Envelopes

    func envelope(_ message: SWIMMessage, gossip: [GossipUpdate] = []) -> SWIMEnvelope {
        SWIMEnvelope(sender: id, senderAddress: address, message: message, gossip: gossip)
    }

    /// A datagram with as much piggy-backed gossip as fits in `maxPacketBytes`; `first`
    /// (the buddy-system suspicion) goes before the queue.
    mutating func datagram(_ message: SWIMMessage, to destination: NodeAddress, first: GossipUpdate? = nil)
        -> SWIMDirective
    {
        var budget = settings.maxPacketBytes - settings.envelopeOverheadBytes - id.encodedSize
            - address.encodedSize - message.encodedFieldSize
        var gossip: [GossipUpdate] = []
        if let first, first.encodedSize <= budget {
            gossip.append(first)
            budget -= first.encodedSize
        }
        if budget > 0, !broadcasts.isEmpty {
            gossip += broadcasts.take(
                budget: budget, retransmitLimit: retransmitLimit, skipping: first?.state.id)
        }
        return .send(envelope(message, gossip: gossip), to: destination, via: .datagram)
    }

    /// retransmitMult × ceil(log10(N + 1)) (memberlist util.go retransmitLimit).
    var retransmitLimit: Int {
        let scale = Int(log10Ceil(liveMemberCount + 1))
        return max(1, settings.retransmitMult * scale)
    }

    /// memberlist pushPullScale: the period grows with log2(N) above 32 members.
    var pushPullPeriod: Duration {
        let n = liveMemberCount
        guard n > 32 else { return settings.pushPullInterval }
        var log2n = 0
        while (1 << (log2n + 1)) <= n { log2n += 1 }
        let exact = (1 << log2n) == n
        let multiplier = (exact ? log2n : log2n + 1) - 5 + 1
        return settings.pushPullInterval * multiplier
    }

    /// memberlist's gossip ticker fires every `gossipInterval` whether or not there is
    /// anything to send; ours skips the wake-ups while the broadcast queue is empty. When
    /// an update may be queued again, the ticker resumes on its own phase: the next round is
    /// the first tick at or after `now`, as it would have been had it kept ticking. (Before,
    /// the stale `nextGossipAt` made the next `tick` look overdue by up to a probe period and
    /// a quarter of the members took a new update for a stall of their own: local health +1,
    /// a doubled probe period, and 100 ms of stall grace before relaying.)
    mutating func resumeGossipTicker(now: Timestamp) {
        guard broadcasts.isEmpty, nextGossipAt < now else { return }
        let interval = settings.gossipInterval.nanoseconds
        guard interval > 0 else { return }
        let behind = (now - nextGossipAt).nanoseconds
        let ticks = (behind + interval - 1) / interval
        nextGossipAt = nextGossipAt + Duration.nanoseconds(ticks * interval)
    }

    mutating func nextSequence() -> UInt32 {
        sequence &+= 1
        return sequence
    }

    mutating func schedule(_ kind: SWIMTimer.Kind, at deadline: Timestamp) {
        timerSequence &+= 1
        timers.insert(SWIMTimer(deadline: deadline, sequence: timerSequence, kind: kind))
    }

    func log10Ceil(_ value: Int) -> Int {
        var power = 1
        var digits = 0
        while power < value {
            power *= 10
            digits += 1
        }
        return digits
    }
}

/// A reaped member's last incarnation; stale `alive` gossip at or below it is ignored.
struct Tombstone: Sendable {
    var incarnation: UInt64
    var expiresAt: Timestamp
}

extension SWIMCore {
    /// What this member knows of `member` (nil when unknown or reaped); O(1).
    public func member(_ member: NodeID) -> MemberState? {
        member == id ? selfState : table.record(member)?.state
    }
}
