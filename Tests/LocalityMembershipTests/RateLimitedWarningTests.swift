import Testing
@testable import LocalityMembership

@Suite struct RateLimitedWarningTests {
    @Test func letsOneWarningThroughPerIntervalAndCountsTheOnesHeldBack() {
        var warnings = RateLimitedWarning(every: .seconds(60))
        let start = ContinuousClock.now
        #expect(warnings.shouldWarn(now: start) == 0)
        for second in 1..<60 { #expect(warnings.shouldWarn(now: start + .seconds(second)) == nil) }
        #expect(warnings.shouldWarn(now: start + .seconds(60)) == 59)
        #expect(warnings.shouldWarn(now: start + .seconds(61)) == nil)
        #expect(warnings.shouldWarn(now: start + .seconds(200)) == 1)
    }
}
