import LocalityCore
import LocalityMembership

/// How a member came to know a death: the step of the simulator during which it emitted
/// `dead` (diagnostics of `MembershipExperiment.breakdown`).
public enum LearnedVia: String, Sendable, Hashable, CaseIterable {
    /// Its own timer: an expired suspicion (or a probe period ending).
    case timer
    /// Its own stream ping was refused.
    case refused
    /// Piggy-back of a gossip round's packet.
    case gossip
    /// Piggy-back of a ping, ping-req, ack or nack (probe traffic).
    case probe
    /// A push-pull full-state exchange.
    case pushPull = "push_pull"
}

/// Where the time went for one crash, in seconds after the crash (nil: never happened).
public struct CrashBreakdown: Sendable, Hashable {
    /// First ping (direct or relayed) sent to the crashed member.
    public var firstPingAfter: Double?
    /// Time until 50% / 90% / 99% / 100% of the live members had declared it dead.
    public var known50After: Double?
    /// Time until 90% of the live members had declared it dead.
    public var known90After: Double?
    /// Time until 99% of them had.
    public var known99After: Double?
    /// Time until every live member had.
    public var known100After: Double?
    /// How the last live member learned it.
    public var lastLearnedVia: LearnedVia?
    /// How every live member learned it (counts).
    public var learnedVia: [LearnedVia: Int]
}

/// Records, for the crashed members, the first ping sent to them and how each live member
/// learned their death. Fed by `SimEngine.tracer` and the experiment's observer.
final class DisseminationTrace {
    let crashTimes: [Int: Timestamp]
    private(set) var firstPing: [Int: Timestamp] = [:]
    private(set) var learnedVia: [Int: [Int: LearnedVia]] = [:]
    private var cause: LearnedVia = .timer

    init(crashTimes: [Int: Timestamp]) {
        self.crashTimes = crashTimes
    }

    func step(_ step: SimStep<SWIMEnvelope>) {
        switch step {
        case .tick:
            cause = .timer
        case .deliveryFailed:
            cause = .refused
        case let .deliver(_, _, envelope, _, _):
            switch envelope.message {
            case .gossip: cause = .gossip
            case .pushPull: cause = .pushPull
            case .ping, .pingRequest, .ack, .nack: cause = .probe
            }
        case let .send(_, to, envelope, _, time):
            guard case .ping = envelope.message, let crashedAt = crashTimes[to], crashedAt <= time,
                firstPing[to] == nil
            else { return }
            firstPing[to] = time
        }
    }

    /// Called for a `dead` event of `observer` about the crashed `subject`, first time only.
    func declared(_ subject: Int, by observer: Int) {
        learnedVia[subject, default: [:]][observer] = cause
    }

    func breakdown(of subject: Int, live: [Int], declaredAt: [Int: Timestamp]?) -> CrashBreakdown {
        let crashTime = crashTimes[subject]!
        let marks = live.compactMap { declaredAt?[$0] }.sorted()
        func known(_ fraction: Double) -> Double? {
            let needed = Int((fraction * Double(live.count)).rounded(.up))
            guard needed >= 1, marks.count >= needed else { return nil }
            return (marks[needed - 1] - crashTime).seconds
        }
        let last = live.max { (declaredAt?[$0] ?? .zero) < (declaredAt?[$1] ?? .zero) }
        var counts: [LearnedVia: Int] = [:]
        for observer in live { if let via = learnedVia[subject]?[observer] { counts[via, default: 0] += 1 } }
        return CrashBreakdown(
            firstPingAfter: firstPing[subject].map { ($0 - crashTime).seconds },
            known50After: known(0.5), known90After: known(0.9), known99After: known(0.99),
            known100After: known(1),
            lastLearnedVia: last.flatMap { learnedVia[subject]?[$0] }, learnedVia: counts)
    }
}
