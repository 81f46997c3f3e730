import LocalityCore
import Synchronization
import Testing
@testable import LocalityGateway

@Suite("Gateway limiters")
struct LimiterTests {
    @Test func tokenBucketRefillsAtItsRateAndSaysWhenToRetry() {
        let clock = ManualClock()
        let limiter = ClientRateLimiter(settings: RateLimitSettings(ratePerSecond: 2, burst: 3, maxClients: 8), clock: clock)
        for _ in 0..<3 { #expect(limiter.admit("a") == .allowed) }
        #expect(limiter.admit("a") == .limited(retryAfterSeconds: 1))
        // Another client has its own bucket.
        #expect(limiter.admit("b") == .allowed)
        clock.advance(by: .milliseconds(500))
        #expect(limiter.admit("a") == .allowed)
        #expect(limiter.admit("a") == .limited(retryAfterSeconds: 1))
        // Never more than the burst, however long the pause.
        clock.advance(by: .seconds(3_600))
        for _ in 0..<3 { #expect(limiter.admit("a") == .allowed) }
        #expect(limiter.admit("a") != .allowed)
    }

    @Test func slowRatesAnswerALongerRetryAfter() {
        let limiter = ClientRateLimiter(settings: RateLimitSettings(ratePerSecond: 0.1, burst: 1), clock: ManualClock())
        #expect(limiter.admit("a") == .allowed)
        #expect(limiter.admit("a") == .limited(retryAfterSeconds: 10))
    }

    @Test func theClientMapStaysBoundedAndEvictsTheLeastRecentlySeen() {
        let clock = ManualClock()
        let limiter = ClientRateLimiter(settings: RateLimitSettings(ratePerSecond: 0.001, burst: 1, maxClients: 4), clock: clock)
        for index in 0..<100 {
            clock.advance(by: .milliseconds(1))
            _ = limiter.admit("client-\(index)")
            #expect(limiter.clientCount <= 4)
        }
        #expect(limiter.evictions == 96)
        // The most recent client is still limited (its bucket was kept).
        #expect(limiter.admit("client-99") != .allowed)
    }

    @Test func fullBucketsMakeRoomBeforeAnyEviction() {
        let clock = ManualClock()
        let limiter = ClientRateLimiter(settings: RateLimitSettings(ratePerSecond: 10, burst: 1, maxClients: 2), clock: clock)
        _ = limiter.admit("a")
        _ = limiter.admit("b")
        clock.advance(by: .seconds(1))   // both refilled: same as new clients
        _ = limiter.admit("c")
        #expect(limiter.evictions == 0)
        #expect(limiter.clientCount == 1)
    }

    @Test func inFlightLimiterQueuesInOrderAndRefusesWhenTheQueueIsFull() async throws {
        let limiter = InFlightLimiter(maxInFlight: 1, maxQueued: 2, maxWait: .seconds(60))
        try await limiter.acquire()
        let order = OrderLog()
        let first = Task { try await limiter.acquire(); order.append(1) }
        #expect(await GatewayHarness.eventually { limiter.depths == (1, 1) })
        let second = Task { try await limiter.acquire(); order.append(2) }
        #expect(await GatewayHarness.eventually { limiter.depths == (1, 2) })
        await #expect(throws: InFlightLimiter.Refusal.queueFull) { try await limiter.acquire() }
        limiter.release()
        try await first.value
        limiter.release()
        try await second.value
        limiter.release()
        #expect(order.values == [1, 2])
        #expect(limiter.depths == (0, 0))
    }

    @Test func aWaiterGivesUpAfterMaxWaitAndACancelledOneLeavesTheQueue() async throws {
        let limiter = InFlightLimiter(maxInFlight: 1, maxQueued: 4, maxWait: .milliseconds(50))
        try await limiter.acquire()
        await #expect(throws: InFlightLimiter.Refusal.waitedTooLong) { try await limiter.acquire() }
        #expect(limiter.depths == (1, 0))

        let patient = InFlightLimiter(maxInFlight: 1, maxQueued: 4, maxWait: .seconds(3_600))
        try await patient.acquire()
        let waiter = Task { try await patient.acquire() }
        #expect(await GatewayHarness.eventually { patient.depths == (1, 1) })
        waiter.cancel()
        await #expect(throws: InFlightLimiter.Refusal.cancelled) { try await waiter.value }
        #expect(patient.depths == (1, 0))
        patient.release()
        #expect(patient.depths == (0, 0))
    }
}

/// Appends from several tasks.
final class OrderLog: Sendable {
    private let items = Synchronization.Mutex<[Int]>([])
    var values: [Int] { items.withLock { $0 } }
    func append(_ value: Int) { items.withLock { $0.append(value) } }
}
