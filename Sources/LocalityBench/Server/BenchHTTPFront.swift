import Foundation
import Hummingbird
import LocalityCore

/// The HTTP front shared by every system of `locality bench stateful` (Hummingbird 2):
///
/// - `POST /v1/sessions/{key}/moves` `{"delta":3}` → `SessionView` after the move is durable
/// - `GET /v1/sessions/{key}` → `SessionView` of the current state
/// - `GET /v1/stored/{key}` → `SessionView` read from the backing store (verification)
///
/// Errors answer `{"error":{"code":…,"message":…}}`: 400 for a bad body, 429 for
/// `overloaded`, 503 for anything else a backend throws.
public enum BenchHTTPFront {
    /// The router over `backend`.
    public static func router(backend: any SessionBackend) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/v1/sessions/:key/moves") { request, context -> Response in
            let key = try context.parameters.require("key")
            guard validKey(key) else { return badKey(key) }
            let body = try await request.body.collect(upTo: 4096)
            guard let move = try? JSONDecoder().decode(MoveRequest.self, from: Data(buffer: body)),
                  abs(move.delta) <= MoveRequest.maxDelta else {
                return errorResponse(.badRequest, LocalityError(.badRequest, "body must be {\"delta\": n} with |n| ≤ \(MoveRequest.maxDelta)"))
            }
            return await answer(key) { try await backend.move(key: key, delta: move.delta) }
        }
        router.get("/v1/sessions/:key") { _, context in try await read(context) { try await backend.view(key: $0) } }
        router.get("/v1/stored/:key") { _, context in try await read(context) { try await backend.stored(key: $0) } }
        return router
    }

    /// A read route: the key from the path, checked, then `operation`'s state as a view.
    static func read(
        _ context: BasicRequestContext, _ operation: (String) async throws -> SessionState
    ) async throws -> Response {
        let key = try context.parameters.require("key")
        guard validKey(key) else { return badKey(key) }
        return await answer(key) { try await operation(key) }
    }

    /// The view of the state `operation` returns, or the error answer for what it throws.
    static func answer(_ key: String, _ operation: () async throws -> SessionState) async -> Response {
        do {
            return viewResponse(key: key, state: try await operation())
        } catch {
            return failure(error)
        }
    }

    /// Keys are 1…64 characters of `A-Z a-z 0-9 _ -` (they go into JSON unescaped).
    public static func validKey(_ key: String) -> Bool {
        let utf8 = key.utf8
        guard !utf8.isEmpty, utf8.count <= 64 else { return false }
        return utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }

    static func badKey(_ key: String) -> Response {
        errorResponse(.badRequest, LocalityError(.badRequest, "key must be 1…64 characters of A-Z a-z 0-9 _ -"))
    }

    static func viewResponse(key: String, state: SessionState) -> Response {
        let view = SessionView(key: key, state: state)
        // Hand-written JSON: the same cheap encoding for every system.
        let text = "{\"key\":\"\(key)\",\"score\":\(view.score),\"moves\":\(view.moves),\"average\":\(view.average),\"level\":\(view.level)}"
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }

    static func failure(_ error: any Error) -> Response {
        if let error = error as? LocalityError {
            return errorResponse(error.code == .overloaded ? .tooManyRequests : (error.code == .badRequest ? .badRequest : .serviceUnavailable), error)
        }
        return errorResponse(.serviceUnavailable, LocalityError(.unavailable, "\(error)"))
    }

    static func errorResponse(_ status: HTTPResponse.Status, _ error: LocalityError) -> Response {
        let message = error.message.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        let text = "{\"error\":{\"code\":\"\(error.code.rawValue)\",\"message\":\"\(message)\"}}"
        var headers: HTTPFields = [.contentType: "application/json"]
        if status == .tooManyRequests { headers[.retryAfter] = "1" }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
