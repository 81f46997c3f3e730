import LocalityCore
import Synchronization

/// When each request of a load phase is meant to start.
///
/// - `.closedLoop`: each worker sends its next request as soon as the previous one
///   returned; a request's latency counts from when it was sent.
/// - `.fixedRate(rps)`: request `n` is meant to start at `start + n / rps`, whatever
///   happened before (open loop). Its latency counts from that intended time, so a server
///   that stalls is charged for every request that should have started during the stall
///   (no coordinated omission, as in wrk2 or HdrHistogram's corrected recording).
public enum LoadSchedule: Sendable, Equatable {
    case closedLoop
    case fixedRate(Double)

    /// Intended start of ticket `ticket` in a fixed-rate phase that began at `start`.
    public static func intendedStart(of ticket: Int, start: Timestamp, rate: Double) -> Timestamp {
        start + .nanoseconds(Int64((Double(ticket) * 1e9 / rate).rounded()))
    }
}

/// Hands out the ticket numbers of a fixed-rate phase to the workers, at most `limit`.
public final class TicketDispenser: Sendable {
    private let next = Atomic<Int>(0)
    /// Most tickets handed out.
    public let limit: Int

    public init(limit: Int) {
        self.limit = limit
    }

    /// The next ticket, or nil when `limit` were handed out.
    public func take() -> Int? {
        let ticket = next.add(1, ordering: .relaxed).oldValue
        return ticket < limit ? ticket : nil
    }

    /// Tickets handed out so far (at most `limit`).
    public var taken: Int { min(next.load(ordering: .relaxed), limit) }
}

/// What one worker (or a whole phase, once merged) did.
public struct WorkerTally: Sendable {
    public var requests = 0
    public var errors = 0
    /// Fixed-rate tickets not sent because the phase's grace time ran out.
    public var unsent = 0
    public var latency = LatencyHistogram()

    public init() {}

    public mutating func add(_ other: WorkerTally) {
        requests += other.requests
        errors += other.errors
        unsent += other.unsent
        latency.add(other.latency)
    }
}

/// The loop each load-generator worker runs, with time and sleeping injected so the
/// intended-time accounting can be tested on a manual clock.
public struct LoadWorkerLoop: Sendable {
    public var schedule: LoadSchedule
    /// Phase start.
    public var start: Timestamp
    /// No request is meant to start at or after `end`.
    public var end: Timestamp
    /// A fixed-rate ticket still unsent at `end + grace` is counted as `unsent`, not sent.
    public var grace: Duration

    public init(schedule: LoadSchedule, start: Timestamp, end: Timestamp, grace: Duration = .seconds(2)) {
        self.schedule = schedule
        self.start = start
        self.end = end
        self.grace = grace
    }

    /// Tickets of a fixed-rate phase (`rate × (end − start)`), 0 for a closed loop.
    public var ticketCount: Int {
        guard case .fixedRate(let rate) = schedule else { return 0 }
        return max(0, Int((Double((end - start).nanoseconds) / 1e9 * rate).rounded(.down)))
    }

    /// Runs requests until the phase ends. `request` returns whether it succeeded;
    /// `sleep(until:)` waits for an intended start in the future.
    public func run(
        clock: any LocalityClock, tickets: TicketDispenser?,
        sleep: (Timestamp) async -> Void, request: () async -> Bool
    ) async -> WorkerTally {
        var tally = WorkerTally()
        while true {
            let intended: Timestamp
            switch schedule {
            case .closedLoop:
                intended = clock.now()
                if intended >= end { return tally }
            case .fixedRate(let rate):
                guard let ticket = tickets?.take() else { return tally }
                intended = LoadSchedule.intendedStart(of: ticket, start: start, rate: rate)
                if intended >= end { return tally }
                let now = clock.now()
                if now > end + grace {
                    tally.unsent += 1
                    continue
                }
                if intended > now { await sleep(intended) }
            }
            let succeeded = await request()
            tally.requests += 1
            if !succeeded { tally.errors += 1 }
            tally.latency.record(clock.now() - intended)
        }
    }
}
