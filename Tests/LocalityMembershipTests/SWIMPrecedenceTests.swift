import LocalityCore
import Testing

@testable import LocalityMembership

/// SWIM §4.2 / memberlist state.go: which update overrides which.
@Suite struct SWIMPrecedenceTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var start: (MemberStatus, UInt64)
        var update: (MemberStatus, UInt64)
        var expected: (MemberStatus, UInt64)
        var testDescription: String { "\(start) + \(update) → \(expected)" }
    }

    static let cases: [Case] = [
        Case(start: (.alive, 5), update: (.alive, 4), expected: (.alive, 5)),
        Case(start: (.alive, 5), update: (.alive, 6), expected: (.alive, 6)),
        Case(start: (.alive, 5), update: (.suspect, 4), expected: (.alive, 5)),
        Case(start: (.alive, 5), update: (.suspect, 5), expected: (.suspect, 5)),
        Case(start: (.alive, 5), update: (.suspect, 7), expected: (.suspect, 7)),
        Case(start: (.alive, 5), update: (.dead, 4), expected: (.alive, 5)),
        Case(start: (.alive, 5), update: (.dead, 5), expected: (.dead, 5)),
        Case(start: (.alive, 5), update: (.left, 5), expected: (.left, 5)),
        Case(start: (.suspect, 5), update: (.alive, 5), expected: (.suspect, 5)),
        Case(start: (.suspect, 5), update: (.alive, 6), expected: (.alive, 6)),
        Case(start: (.suspect, 5), update: (.dead, 5), expected: (.dead, 5)),
        Case(start: (.dead, 5), update: (.alive, 5), expected: (.dead, 5)),
        Case(start: (.dead, 5), update: (.suspect, 6), expected: (.dead, 5)),
        Case(start: (.dead, 5), update: (.alive, 6), expected: (.alive, 6)),
        Case(start: (.left, 5), update: (.dead, 6), expected: (.left, 5)),
    ]

    @Test(arguments: cases)
    func updateOverridesOnlyByIncarnationRules(_ c: Case) {
        var core = SWIMFixture.core(peers: 3)
        let member = SWIMFixture.id(1)
        var out: [SWIMDirective] = []
        // Reach the start state through the protocol itself.
        core.apply(SWIMFixture.update(1, incarnation: c.start.1, status: .alive, from: 1), now: .zero, into: &out)
        if c.start.0 != .alive {
            core.apply(SWIMFixture.update(1, incarnation: c.start.1, status: c.start.0, from: 2), now: .zero, into: &out)
        }
        #expect(core.member(member)?.status == c.start.0)
        out = []
        let now = Timestamp.zero + .milliseconds(10)
        core.apply(SWIMFixture.update(1, incarnation: c.update.1, status: c.update.0, from: 3), now: now, into: &out)
        #expect(core.member(member)?.status == c.expected.0)
        #expect(core.member(member)?.incarnation == c.expected.1)
        let changed = c.expected.0 != c.start.0
        #expect(out.statuses(of: member) == (changed ? [c.expected.0] : []))
    }

    @Test func firstSightingEmitsEventWithoutPrevious() {
        var core = SWIMFixture.core(peers: 1)
        let out = core.receive(
            SWIMFixture.envelope(from: 1, .gossip, gossip: [SWIMFixture.update(9, incarnation: 2, status: .alive, from: 9)]),
            now: .zero)
        #expect(out.events == [.statusChanged(SWIMFixture.state(9, incarnation: 2), previous: nil)])
    }

    @Test func noEventIsEverEmittedForSelf() {
        var core = SWIMFixture.core(peers: 2)
        let updates = [
            SWIMFixture.update(0, incarnation: 0, status: .suspect, from: 1),
            SWIMFixture.update(0, incarnation: 3, status: .dead, from: 2),
            SWIMFixture.update(0, incarnation: 9, status: .alive, from: 2),
        ]
        let out = core.receive(SWIMFixture.envelope(from: 1, .gossip, gossip: updates), now: .zero)
        #expect(out.statuses(of: SWIMFixture.id(0)).isEmpty)
        #expect(!core.members.dropFirst().contains { $0.id == SWIMFixture.id(0) })
    }
}
