import Testing
@testable import LocalityGateway

/// The fast match of actor-call paths (`GatewayResponder`): exactly three non-empty
/// segments after `/v1/actors/`; anything else is left to the router.
@Suite struct ActorPathTests {
    @Test func threeSegmentsMatchStillEncoded() {
        #expect(ActorPath("/v1/actors/counter/k1/value") == ActorPath(type: "counter", id: "k1", method: "value"))
        #expect(ActorPath("/v1/actors/cart/a%2Fb/add(item:)") == ActorPath(type: "cart", id: "a%2Fb", method: "add(item:)"))
    }

    @Test(arguments: [
        "/v1/actors/counter/k1", "/v1/actors/counter/k1/", "/v1/actors/counter/k1/value/", "/v1/actors/counter/k1/value/x",
        "/v1/actors//k1/value", "/v1/actors/counter//value", "/v1/actors/", "/v1/actor/counter/k1/value", "/v2/actors/a/b/c", "",
    ])
    func otherPathsAreLeftToTheRouter(path: String) {
        #expect(ActorPath(path) == nil)
    }
}
