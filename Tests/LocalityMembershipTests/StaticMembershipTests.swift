import LocalityCore
import Testing
@testable import LocalityMembership

@Suite struct StaticMembershipTests {
    @Test func everyListedMemberIsAliveAndTheLocalNodeIsIncluded() async {
        let local = NodeID(name: "n1", uid: 1)
        let other = NodeID(name: "n2", uid: 2)
        let membership = StaticMembership(
            localNode: local, localAddress: NodeAddress(host: "127.0.0.1", port: 7001),
            members: [(other, NodeAddress(host: "127.0.0.1", port: 7002))])
        let members = await membership.members()
        #expect(members.map(\.id) == [local, other])
        #expect(members.allSatisfy { $0.status == .alive })
        var events: [MembershipEvent] = []
        for await event in membership.events() { events.append(event) }
        #expect(events == members.map { .statusChanged($0, previous: nil) })
    }
}
