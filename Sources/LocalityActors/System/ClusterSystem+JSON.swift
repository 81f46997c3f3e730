import Distributed
import LocalityCore
import LocalityRouting
import NIOCore

/// Calls by name with JSON arguments (the HTTP gateway's entry into the runtime).
///
/// The entry node resolves the method name through the kind registry (a base name must
/// name exactly one method) and routes a `JSONInvocationMessage` to the actor's owner
/// through the router, with its retries, when the system is attached to one; the owner
/// decodes the JSON into the method's parameter types, runs the call as a turn of the
/// activation and encodes the result with `JSONEncoder`.
extension ClusterSystem: ActorInvoker {
    /// Calls `method` of actor `kind`/`key` with JSON `arguments` and returns the JSON
    /// result, wherever the actor lives; `timeout` bounds the whole call. Under an
    /// `idempotencyKey`, a call the actor already ran answers its first result (or
    /// `already_applied`) without running again.
    public func invoke(
        kind: String, key: String, method: String, arguments: [UInt8], timeout: Duration, idempotencyKey: IdempotencyKey?
    ) async throws -> [UInt8] {
        guard let registration = registry.registration(kind) else {
            throw LocalityError(.actorNotFound, "no actor kind \(kind)")
        }
        guard !key.isEmpty else { throw LocalityError(.badRequest, "empty actor key") }
        guard timeout > .zero else { throw LocalityError(.deadlineExceeded, "no time left for \(kind)/\(key).\(method)") }
        let message = JSONInvocationMessage(
            chain: CallChain.current ?? newChain(), id: VirtualActorID(kind: kind, key: key),
            method: try registration.resolveMethod(method), json: arguments, idempotencyKey: idempotencyKey)
        let link = link.withLock { $0 }
        return try await Self.within(timeout, call: "\(message.id).\(message.method)") {
            guard let link else { return try await self.handleJSON(message).result() }
            // The owner is this node: no envelope, no encoding (a retryable failure routes).
            if link.placement == nil, let reply = try await link.router.runIfLocalOwner(key: message.id.routingKey, { try await self.handleJSON(message) }) {
                return try reply.result()
            }
            let deadline = NIODeadline.now() + .nanoseconds(timeout.nanoseconds)
            let reply = try await link.send(message.id, body: ByteBuffer(bytes: message.encoded()), deadline: deadline) { [catalog = self.catalog] in
                catalog.liveCount
            }
            return try JSONInvocationReply.decode(Array(reply.readableBytesView)).result()
        }
    }

    /// Runs a JSON invocation on the local activation (the owner's side).
    func handleJSON(_ message: JSONInvocationMessage) async throws -> JSONInvocationReply {
        guard let registration = registry.registration(message.id.kind) else {
            throw LocalityError(.actorNotFound, "no actor kind \(message.id.kind)")
        }
        let target: RemoteCallTarget
        let labels: [String]
        if let method = registration.callable[message.method] {
            (target, labels) = (method.target, method.labels)
        } else {
            (target, labels) = (try registration.target(named: message.method), JSONArguments.labels(ofStableName: message.method))
        }
        // Checked before activating: malformed arguments do not load the actor.
        let arguments = try JSONArguments(message.json, labels: labels, method: "\(message.id.kind).\(message.method)")
        return try await CallChain.$current.withValue(message.chain) {
            try await catalog.withTurn(message.id, chain: message.chain) { activation in
                guard let key = message.idempotencyKey?.rawValue else {
                    return try jsonReply(await execute(on: activation.instance, target: target, source: .json(arguments), form: .json))
                }
                let fingerprint = IdempotentCall.fingerprint(method: message.method, arguments: message.json)
                try await activation.ledger.loadIfNeeded()
                switch activation.ledger.lookup(key, fingerprint: fingerprint) {
                case .otherCall:
                    throw LocalityError(
                        .badRequest,
                        "Idempotency-Key \(key) was used for another call of \(message.id) (another method or other arguments): use a new key per call")
                case .replay(let bytes):
                    catalog.metrics.replayedResults.increment()
                    return try JSONInvocationReply.decode(bytes)
                case .appliedWithoutResult:
                    catalog.metrics.replayedApplied.increment()
                    throw LocalityError(
                        .alreadyApplied,
                        "\(message.id).\(message.method) already ran under Idempotency-Key \(key) and its changes were committed; its result was not kept")
                case .unknown:
                    let call = IdempotentCall(key: key, fingerprint: fingerprint, ledger: activation.ledger)
                    let outcome = try await IdempotentCall.$current.withValue(call) {
                        try await execute(on: activation.instance, target: target, source: .json(arguments), form: .json)
                    }
                    let reply = try jsonReply(outcome)
                    activation.ledger.recordOutcome(key, fingerprint: fingerprint, reply: reply.encoded())
                    return reply
                }
            }
        }
    }

    /// The reply for a method's outcome; a runtime failure (`LocalityError`) is thrown.
    private func jsonReply(_ outcome: CallOutcome) throws -> JSONInvocationReply {
        switch outcome {
        case .json(let json): return .value(json)
        case .void: return .value(Array("null".utf8))
        case .error(let error as LocalityError): throw error
        case .error(let error): return remoteErrors.jsonReply(for: error)
        case .value, .encoded: throw LocalityError(.internal, "non-JSON result for a JSON invocation")
        }
    }

    /// Runs `body`, failing with `deadline_exceeded` once `timeout` passed (the body is
    /// cancelled then: a call still waiting for its turn leaves the mailbox).
    /// `call` names the call in the error and is built only when one is thrown.
    static func within<T: Sendable>(
        _ timeout: Duration, call: @escaping @Sendable @autoclosure () -> String, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        // The caller's own deadline (the gateway's) already ends the call in time.
        if let enclosing = Deadline.enclosing, enclosing.covers(timeout) { return try await body() }
        do {
            return try await withDeadline(timeout, onTimeout: { LocalityError(.deadlineExceeded, "\(call()) took longer than \(timeout)") }, body)
        } catch is CancellationError {
            throw LocalityError(.cancelled, "\(call()) was cancelled")
        }
    }
}
