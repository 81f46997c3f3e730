import HTTPTypes
import LocalityCore
import Testing
@testable import LocalityGateway

@Suite("Gateway error mapping")
struct GatewayFailureTests {
    @Test(arguments: LocalityError.Code.allCases)
    func everyCodeHasAStatusAndKeepsItsCode(_ code: LocalityError.Code) {
        let failure = GatewayFailure.from(LocalityError(code, "m"), retryAfterSeconds: 2)
        let expected: Int = switch code {
        case .badRequest: 400
        case .actorNotFound: 404
        case .conflict, .alreadyApplied: 409
        case .payloadTooLarge: 413
        case .internal: 500
        case .unauthenticated: 502
        case .overloaded, .unavailable, .notOwner, .cancelled, .storageUnavailable: 503
        // May have run: never 503 with Retry-After ("not applied, retry").
        case .deadlineExceeded, .outcomeUnknown: 504
        }
        #expect(failure.status.code == expected)
        #expect(failure.code == code.rawValue)
        #expect((failure.retryAfterSeconds != nil) == (expected == 503))
    }

    @Test func messagesAreEscapedAndInternalsHidden() {
        let odd = GatewayFailure.from(LocalityError(.badRequest, "quote \" backslash \\ newline \n"), retryAfterSeconds: 1)
        #expect(odd.message == "quote \" backslash \\ newline \n")
        #expect(JSONText.quoted(odd.message) == "\"quote \\\" backslash \\\\ newline \\n\"")
        #expect(GatewayFailure.from(LocalityError(.internal, "db at /secret"), retryAfterSeconds: 1).message == "internal error")
        // A method error whose detail is not JSON carries null rather than broken JSON.
        let broken = GatewayFailure.from(ActorMethodError(type: "E", json: Array("{not json".utf8)), retryAfterSeconds: 1)
        #expect(broken.methodErrorDetail == nil)
    }
}
