import LocalityBench
import Testing

/// The requests of the workload, per front: the load generator sends exactly these.
@Suite struct BenchAPITests {
    @Test func benchFrontMovePostsTheDeltaToTheSessionsMoves() {
        #expect(BenchAPI.benchFront.move(key: "s42", delta: 7) == .init(method: .POST, path: "/v1/sessions/s42/moves", body: "{\"delta\":7}"))
    }

    @Test func benchFrontReadIsAGetWithoutBody() {
        #expect(BenchAPI.benchFront.read(key: "s0") == .init(method: .GET, path: "/v1/sessions/s0", body: nil))
    }

    @Test func gatewayMoveCallsTheSessionActorsMoveWithItsLabelledArgument() {
        #expect(BenchAPI.gateway.move(key: "s42", delta: 10) == .init(method: .POST, path: "/v1/actors/session/s42/move", body: "{\"delta\":10}"))
    }

    @Test func gatewayReadCallsCurrentWithAnEmptyObject() {
        #expect(BenchAPI.gateway.read(key: "s9999") == .init(method: .POST, path: "/v1/actors/session/s9999/current", body: "{}"))
    }

    @Test func gatewayPathsUseTheKindGameSessionRegisters() {
        #expect(BenchAPI.gateway.read(key: "k").path.hasPrefix("/v1/actors/\(GameSession.kind)/"))
    }

    @Test func reportNamesOfTheFronts() {
        #expect(BenchAPI.gateway.rawValue == "gateway")
        #expect(BenchAPI.benchFront.rawValue == "bench-front")
    }
}
