import LocalityCore
import Testing
@testable import LocalityRouting

@Suite("OwnerResolver")
struct OwnerResolverTests {
    struct Fixed: OwnerResolver {
        let node: NodeID?
        func owner(of key: String) -> NodeID? { node }
    }

    @Test func aResolverWithoutMembersAnswersNil() {
        #expect(Fixed(node: nil).owner(of: "k") == nil)
    }
}
