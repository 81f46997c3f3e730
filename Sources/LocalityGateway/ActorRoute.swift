import Foundation
import HTTPTypes
import Hummingbird
import LocalityCore
import LocalityRouting
import Logging
import NIOCore
import Synchronization

/// `POST /v1/actors/{type}/{id}/{method}`: admission (in-flight limit and queue), body
/// read up to `maxBodyBytes`, JSON check, then `ActorInvoker.invoke` under a deadline.
/// The client may shorten (or, up to `maxCallTimeout`, lengthen) the call timeout with
/// `X-Locality-Timeout-Ms`, and make retries safe with `Idempotency-Key` (a call retried
/// under the same key runs at most once and answers its first result).
struct ActorRoute: Sendable {
    static let timeoutHeader = HTTPField.Name("x-locality-timeout-ms")!
    static let idempotencyKeyHeader = HTTPField.Name("idempotency-key")!
    /// The HTTP gateway (`host:port`) of the key's owner, on a 200 answer.
    static let ownerHeader = HTTPField.Name("locality-owner")!
    /// The checksum of the ring that named the owner, in hex (it changes when ownership can).
    static let ringHeader = HTTPField.Name("locality-ring")!

    let settings: GatewaySettings
    let invoker: any ActorInvoker
    let limiter: InFlightLimiter
    let metrics: GatewayMetrics
    /// The ring the node routes with, when it has one: answers name the key's owner.
    var ring: RingOwnerResolver? = nil

    /// Answers a request the router matched (its path parameters name the call).
    func handle(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        try await handle(
            request, context: context, path: ActorPath(
                type: try context.parameters.require("type")[...], id: try context.parameters.require("id")[...],
                method: try context.parameters.require("method")[...]))
    }

    /// Answers the call `path` names.
    func handle(_ request: Request, context: GatewayRequestContext, path: ActorPath) async throws -> Response {
        let kind = try Self.decoded("type", path.type)
        let key = try Self.decoded("id", path.id)
        let method = try Self.decoded("method", path.method)
        let timeout = try callTimeout(request)
        let idempotencyKey = try request.headers[Self.idempotencyKeyHeader].map { text throws(LocalityError) in
            try IdempotencyKey(validating: text)
        }

        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > settings.maxBodyBytes {
            throw tooLarge(context)
        }
        do {
            try await limiter.acquire()
        } catch {
            metrics.rejected(error == .queueFull ? .queueFull : .queueTimeout)
            if request.announcesBody { context.closeConnection(after: settings.lingerTime) }
            let message = error == .queueFull ? "too many calls in flight and queued" : "no call slot freed in time"
            throw GatewayFailure(status: .serviceUnavailable, code: LocalityError.Code.overloaded.rawValue, message: message,
                                 retryAfterSeconds: settings.retryAfterSeconds, closeConnection: request.announcesBody)
        }
        defer { limiter.release() }

        let result = try await readBodyAndInvoke(
            request, context: context, kind: kind, key: key, method: method, timeout: timeout, idempotencyKey: idempotencyKey)
        let bytes = result.isEmpty ? Array("null".utf8) : result
        var headers: HTTPFields = [.contentType: "application/json"]
        if let ring {
            // Where to send this key next time (docs/gateway.md, "Calling the owner directly").
            let (gateway, checksum) = ring.gateway(ofOwnerOf: "\(kind)/\(key)")
            if let gateway { headers[Self.ownerHeader] = gateway }
            headers[Self.ringHeader] = String(checksum, radix: 16)
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Reads the whole body, at most `maxBodyBytes`, within `bodyTimeout` (else 408
    /// `deadline_exceeded` and the connection closes: a slow sender cannot hold its slot),
    /// then runs the call within `timeout` (plus 100 ms, in case the invoker does not
    /// answer by itself: then 504 `deadline_exceeded`). One deadline guards both: it moves
    /// from the body's limit to the call's when the body has arrived.
    private func readBodyAndInvoke(
        _ request: Request, context: GatewayRequestContext, kind: String, key: String, method: String, timeout: Duration,
        idempotencyKey: IdempotencyKey?
    ) async throws -> [UInt8] {
        let requestBody = request.body
        let (invoker, settings, metrics) = (invoker, settings, metrics)
        let bodyRead = BodyRead()
        let onTimeout: @Sendable () -> any Error = {
            guard bodyRead.done else {
                metrics.rejected(.bodyTimeout)
                context.closeConnection(after: settings.lingerTime)
                return GatewayFailure(status: HTTPResponse.Status(code: 408), code: LocalityError.Code.deadlineExceeded.rawValue,
                                      message: "request body did not arrive within \(settings.bodyTimeout)", closeConnection: true)
            }
            return LocalityError(.deadlineExceeded, "call to \(kind)/\(key).\(method) took longer than \(timeout)")
        }
        do {
            return try await withDeadline(settings.bodyTimeout, onTimeout: onTimeout) { deadline in
                let body = try await requestBody.collect(upTo: settings.maxBodyBytes)
                // Only a deadline that had not fired yet becomes the call's: one that fired
                // during the body answers 408.
                if deadline.move(after: timeout + .milliseconds(100)) { bodyRead.done = true }
                let arguments = Array(buffer: body)
                try Self.checkArguments(arguments)
                return try await invoker.invoke(
                    kind: kind, key: key, method: method, arguments: arguments, timeout: timeout, idempotencyKey: idempotencyKey)
            }
        } catch is NIOTooManyBytesError {
            throw tooLarge(context)
        }
    }

    private func tooLarge(_ context: GatewayRequestContext) -> GatewayFailure {
        metrics.rejected(.payloadTooLarge)
        context.closeConnection(after: settings.lingerTime)
        return GatewayFailure(status: .contentTooLarge, code: LocalityError.Code.payloadTooLarge.rawValue,
                              message: "request body exceeds \(settings.maxBodyBytes) bytes", closeConnection: true)
    }

    private func callTimeout(_ request: Request) throws -> Duration {
        guard let text = request.headers[Self.timeoutHeader] else { return settings.callTimeout }
        guard let milliseconds = Int(text), milliseconds > 0 else {
            throw LocalityError(.badRequest, "\(Self.timeoutHeader.rawName) must be a positive integer of milliseconds")
        }
        return min(.milliseconds(milliseconds), settings.maxCallTimeout)
    }

    /// A path segment, percent-decoded.
    static func decoded(_ name: String, _ raw: Substring) throws -> String {
        // Most keys carry no escapes: skip Foundation's decoding for them.
        if !raw.isEmpty, !raw.utf8.contains(UInt8(ascii: "%")) { return String(raw) }
        guard let decoded = raw.removingPercentEncoding, !decoded.isEmpty else {
            throw LocalityError(.badRequest, "bad \(name) in path")
        }
        return decoded
    }

    /// Arguments are empty, a JSON object or a JSON array (checked without parsing into
    /// objects: the owner decodes them into the method's parameter types).
    static func checkArguments(_ bytes: [UInt8]) throws {
        guard bytes.contains(where: { !$0.isJSONWhitespace }) else { return }
        guard JSONSyntax.isObjectOrArray(bytes) else {
            let first = bytes.first(where: { !$0.isJSONWhitespace })
            if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
                throw LocalityError(.badRequest, "request body is not valid JSON")
            }
            throw LocalityError(.badRequest, "arguments must be a JSON object or array")
        }
    }

}

/// Whether a request's body has arrived (read by the deadline's timeout to pick the answer).
final class BodyRead: Sendable {
    private let flag = Atomic<Bool>(false)

    var done: Bool {
        get { flag.load(ordering: .acquiring) }
        set { flag.store(newValue, ordering: .releasing) }
    }
}

extension UInt8 {
    var isJSONWhitespace: Bool { self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D }
}
