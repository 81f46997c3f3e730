import LocalityCore
import Testing
@testable import LocalityMembership

@Suite struct MemberViewTests {
    func member(_ index: Int, _ status: MemberStatus) -> MemberState {
        MemberState(id: NodeID(name: "n\(index)", uid: UInt64(index)), address: NodeAddress(host: "h", port: index + 1), incarnation: 0, status: status)
    }

    @Test func aSubscriberGetsTheSnapshotThenChanges() async {
        let view = MemberView(bufferSize: 16, maxSubscribers: 4)
        view.reset([member(1, .alive)])
        let stream = view.subscribe()
        view.publish(.statusChanged(member(2, .alive), previous: nil))
        view.publish(.removed(member(1, .alive).id))
        view.finishAll()
        var events: [MembershipEvent] = []
        for await event in stream { events.append(event) }
        #expect(events == [
            .statusChanged(member(1, .alive), previous: nil),
            .statusChanged(member(2, .alive), previous: nil),
            .removed(member(1, .alive).id),
        ])
        #expect(view.members == [member(2, .alive)])
    }

    @Test func aSlowSubscriberLosesTheOldestEventsAndTheDropsAreCounted() async {
        let view = MemberView(bufferSize: 3, maxSubscribers: 4)
        let stream = view.subscribe()
        for index in 0..<10 { view.publish(.statusChanged(member(index, .alive), previous: nil)) }
        view.finishAll()
        var names: [String] = []
        for await case .statusChanged(let state, _) in stream { names.append(state.id.name) }
        #expect(names == ["n7", "n8", "n9"])
        #expect(view.droppedEvents == 7)
    }

    @Test func subscriptionsBeyondTheLimitFinishAtOnce() async {
        let view = MemberView(bufferSize: 3, maxSubscribers: 1)
        let first = view.subscribe()
        let second = view.subscribe()
        var count = 0
        for await _ in second { count += 1 }
        #expect(count == 0)
        view.finishAll()
        for await _ in first { count += 1 }
        #expect(count == 0)
    }
}
