import Foundation
import HTTPTypes
import Hummingbird
import LocalityCore
import NIOCore

/// An error answer of the gateway: `{"error":{"code":…,"message":…}}` with the status
/// for the code, `Retry-After` where retrying later helps, and (422 only) the actor
/// method error's `type` and JSON `detail`.
///
/// Codes are `LocalityError` codes, plus `method_error` (the actor method threw, 422),
/// `not_found` (no such route, 404), `unauthorized` (no valid bearer token, 401, with
/// `WWW-Authenticate: Bearer`) and `forbidden` (a valid token without the right, 403). Unexpected errors answer 500 `internal` without
/// their description (it is logged instead).
struct GatewayFailure: Error, Sendable {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    var retryAfterSeconds: Int?
    /// Ask the connection to close after the answer (the body was not read).
    var closeConnection = false
    var methodErrorType: String?
    var methodErrorDetail: [UInt8]?
    /// The `WWW-Authenticate` challenge of a 401.
    var wwwAuthenticate: String?

    init(status: HTTPResponse.Status, code: String, message: String, retryAfterSeconds: Int? = nil, closeConnection: Bool = false) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
        self.closeConnection = closeConnection
    }

    /// The gateway-level code of `unauthorized` answers (401).
    static let unauthorizedCode = "unauthorized"
    /// The gateway-level code of `forbidden` answers (403).
    static let forbiddenCode = "forbidden"

    /// The answer refusing a request for `reason`: 401 `unauthorized` with a Bearer
    /// challenge, or 403 `forbidden`.
    static func auth(_ reason: AuthRejection, closeConnection: Bool) -> GatewayFailure {
        switch reason.status {
        case .forbidden:
            let message = reason == .kindNotAllowed ? "this token may not call this actor kind" : "this path needs an admin token"
            return GatewayFailure(status: .forbidden, code: forbiddenCode, message: message, closeConnection: closeConnection)
        default:
            let message = reason == .missing ? "a bearer token is required" : "the bearer token is not valid (\(reason.rawValue))"
            var failure = GatewayFailure(status: .unauthorized, code: unauthorizedCode, message: message, closeConnection: closeConnection)
            failure.wwwAuthenticate = reason == .missing ? "Bearer realm=\"locality\"" : "Bearer realm=\"locality\", error=\"invalid_token\""
            return failure
        }
    }

    /// The answer for an error thrown by the invoker or by the gateway itself.
    static func from(_ error: any Error, retryAfterSeconds: Int) -> GatewayFailure {
        switch error {
        case let failure as GatewayFailure:
            return failure
        case let error as LocalityError:
            return from(error, retryAfterSeconds: retryAfterSeconds)
        case let error as ActorMethodError:
            var failure = GatewayFailure(status: .unprocessableContent, code: "method_error", message: "actor method threw \(error.type)")
            failure.methodErrorType = error.type
            failure.methodErrorDetail = error.json.flatMap { isJSON($0) ? $0 : nil }
            return failure
        case let error as HTTPError where error.status == .notFound:
            return GatewayFailure(status: .notFound, code: "not_found", message: "no such route")
        case let error as HTTPError where error.status.code < 500:
            return GatewayFailure(status: error.status, code: "bad_request", message: error.status.reasonPhrase)
        default:
            return GatewayFailure(status: .internalServerError, code: LocalityError.Code.internal.rawValue, message: "internal error")
        }
    }

    static func from(_ error: LocalityError, retryAfterSeconds: Int) -> GatewayFailure {
        let code = error.code.rawValue
        switch error.code {
        case .badRequest: return GatewayFailure(status: .badRequest, code: code, message: error.message)
        case .actorNotFound: return GatewayFailure(status: .notFound, code: code, message: error.message)
        case .payloadTooLarge: return GatewayFailure(status: .contentTooLarge, code: code, message: error.message)
        case .conflict, .alreadyApplied: return GatewayFailure(status: .conflict, code: code, message: error.message)
        // The call may have run: 504 without Retry-After, never "not applied, retry".
        case .deadlineExceeded, .outcomeUnknown: return GatewayFailure(status: .gatewayTimeout, code: code, message: error.message)
        case .overloaded, .unavailable, .notOwner, .cancelled, .storageUnavailable:
            return GatewayFailure(status: .serviceUnavailable, code: code, message: error.message, retryAfterSeconds: retryAfterSeconds)
        case .unauthenticated: return GatewayFailure(status: .badGateway, code: code, message: error.message)
        case .internal: return GatewayFailure(status: .internalServerError, code: code, message: "internal error")
        }
    }

    /// The HTTP response.
    var response: Response {
        var body = "{\"error\":{\"code\":" + JSONText.quoted(code) + ",\"message\":" + JSONText.quoted(message)
        if let methodErrorType {
            body += ",\"type\":" + JSONText.quoted(methodErrorType)
            body += ",\"detail\":" + (methodErrorDetail.map { String(decoding: $0, as: UTF8.self) } ?? "null")
        }
        body += "}}"
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        if closeConnection { headers[.connection] = "close" }
        if let wwwAuthenticate { headers[.wwwAuthenticate] = wwwAuthenticate }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// Whether `bytes` is one JSON value.
    static func isJSON(_ bytes: [UInt8]) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil
    }
}

/// Minimal JSON text helpers for hand-written bodies.
enum JSONText {
    /// `text` as a JSON string literal.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
