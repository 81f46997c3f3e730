import LocalityBench
import LocalityCore
import Testing

/// The open-loop accounting on a manual clock: sleeping moves the clock to the intended
/// start, a request moves it by its service time.
@Suite struct LoadScheduleTests {
    /// HdrHistogram keeps 3 significant digits: equal within 0.1 %.
    static func near(_ value: Double, _ expected: Double) -> Bool {
        abs(value - expected) <= expected * 0.001
    }

    @Test func intendedStartsAreEvenlySpaced() {
        let start = Timestamp(nanoseconds: 1_000)
        #expect(LoadSchedule.intendedStart(of: 0, start: start, rate: 1_000) == start)
        #expect(LoadSchedule.intendedStart(of: 1, start: start, rate: 1_000) == start + .milliseconds(1))
        #expect(LoadSchedule.intendedStart(of: 250, start: start, rate: 500) == start + .milliseconds(500))
    }

    @Test func fastServerLatencyIsItsServiceTime() async {
        let clock = ManualClock()
        let loop = LoadWorkerLoop(schedule: .fixedRate(1_000), start: .zero, end: .zero + .milliseconds(100))
        #expect(loop.ticketCount == 100)
        let tickets = TicketDispenser(limit: loop.ticketCount)
        var sleeps = 0
        let tally = await loop.run(clock: clock, tickets: tickets, sleep: { intended in
            sleeps += 1
            clock.set(intended)
        }, request: {
            clock.advance(by: .microseconds(200))
            return true
        })
        #expect(tally.requests == 100)
        #expect(tally.errors == 0)
        #expect(sleeps == 99)  // every request but the first waits for its slot
        #expect(Self.near(tally.latency.milliseconds(at: 100), 0.2))
        #expect(Self.near(tally.latency.milliseconds(at: 50), 0.2))
    }

    /// A server slower than the offered rate: latency counts from the intended start, so
    /// it grows with the backlog (request n waits n × (service − interval)); a closed loop
    /// would report the service time only (coordinated omission).
    @Test func slowServerIsChargedForTheBacklog() async {
        let clock = ManualClock()
        let loop = LoadWorkerLoop(schedule: .fixedRate(1_000), start: .zero, end: .zero + .milliseconds(10), grace: .seconds(10))
        let tickets = TicketDispenser(limit: loop.ticketCount)
        let tally = await loop.run(clock: clock, tickets: tickets, sleep: { clock.set($0) }, request: {
            clock.advance(by: .milliseconds(3))
            return true
        })
        #expect(tally.requests == 10)
        // Request n (0…9) intended at n ms, completes at 3(n+1) ms: latency 2n + 3 ms.
        #expect(Self.near(tally.latency.milliseconds(at: 100), 21))
        #expect(Self.near(tally.latency.milliseconds(at: 0), 3))
        #expect(Self.near(tally.latency.milliseconds(at: 50), 11))

        let closedClock = ManualClock()
        let closed = LoadWorkerLoop(schedule: .closedLoop, start: .zero, end: .zero + .milliseconds(30))
        let closedTally = await closed.run(clock: closedClock, tickets: nil, sleep: { _ in }, request: {
            closedClock.advance(by: .milliseconds(3))
            return true
        })
        #expect(closedTally.requests == 10)
        #expect(Self.near(closedTally.latency.milliseconds(at: 100), 3))
    }

    @Test func ticketsPastTheGraceAreCountedUnsent() async {
        let clock = ManualClock()
        let loop = LoadWorkerLoop(schedule: .fixedRate(100), start: .zero, end: .zero + .seconds(1), grace: .milliseconds(500))
        let tickets = TicketDispenser(limit: loop.ticketCount)
        let tally = await loop.run(clock: clock, tickets: tickets, sleep: { clock.set($0) }, request: {
            clock.advance(by: .milliseconds(100))
            return false
        })
        // A request is sent while the clock is at most end + grace: at 0, 0.1, …, 1.5 s (16);
        // the other 84 tickets are unsent.
        #expect(tally.requests == 16)
        #expect(tally.errors == 16)
        #expect(tally.unsent == 84)
        #expect(tickets.taken == 100)
    }

    @Test func dispenserStopsAtItsLimitAcrossWorkers() async {
        let tickets = TicketDispenser(limit: 1_000)
        let taken = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var count = 0
                    while tickets.take() != nil { count += 1 }
                    return count
                }
            }
            return await group.reduce(0, +)
        }
        #expect(taken == 1_000)
    }

    @Test func ledgerAcceptsOnlyPossibleScores() {
        var ledger = AckLedger(keys: 2)
        ledger.acknowledge(key: 0, delta: 5)
        ledger.fail(key: 0, delta: 3)
        #expect(ledger.accepts(score: 5, key: 0))
        #expect(ledger.accepts(score: 8, key: 0))
        #expect(!ledger.accepts(score: 4, key: 0))
        #expect(!ledger.accepts(score: 9, key: 0))
        #expect(ledger.accepts(score: 0, key: 1))
        #expect(!ledger.accepts(score: 1, key: 1))
    }

    @Test func rateLadderSpansSlowestToFastest() {
        let ladder = StatefulBenchmark.rateLadder(maxima: [1_000, 16_000])
        #expect(ladder.count == 5)
        #expect(ladder.first == 500)
        #expect(ladder.last == 19_200)
        #expect(zip(ladder, ladder.dropFirst()).allSatisfy { $0 < $1 })
    }
}
