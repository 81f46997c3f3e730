import Distributed
import LocalityCore
import LocalityRouting
import NIOCore
import Synchronization

/// How this system reaches the others: the router (handle or forward over the
/// transport) and the owner view it routes by.
struct RemoteLink: Sendable {
    let router: Router
    let resolver: any OwnerResolver
    /// Directory-backed placement, when `settings.placement` uses the directory.
    var placement: DirectoryPlacement? = nil
}

/// Error types allowed to travel back to a remote caller as themselves (by a name both
/// sides registered). Any other error arrives as `GenericRemoteError`.
final class RemoteErrorAllowList: Sendable {
    private struct Entry: Sendable {
        let name: String
        let encode: @Sendable (any Error) throws -> BinaryValue?
        let decode: @Sendable (BinaryValue) throws -> any Error
        let json: @Sendable (any Error) throws -> [UInt8]?
    }

    private struct State {
        var byName: [String: Entry] = [:]
        var byType: [ObjectIdentifier: Entry] = [:]
    }

    private let state = Mutex(State())

    func allow<E: Error & Codable>(_ type: E.Type, name: String) {
        let entry = Entry(
            name: name,
            encode: { error in try (error as? E).map { try BinaryEncoder().encodeValue($0) } },
            decode: { value in try BinaryDecoder().decodeValue(E.self, from: value) },
            json: { error in try (error as? E).map { try JSONArguments.encodeResult($0) } }
        )
        state.withLock {
            $0.byName[name] = entry
            $0.byType[ObjectIdentifier(type)] = entry
        }
    }

    /// The reply carrying `error` to a remote caller.
    func reply(for error: any Error) -> InvocationReply {
        let typeName = String(reflecting: type(of: error))
        guard let entry = state.withLock({ $0.byType[ObjectIdentifier(type(of: error))] }),
              let value = try? entry.encode(error)
        else { return .otherError(type: typeName) }
        return .codableError(type: entry.name, value: value)
    }

    /// The reply carrying `error` to a JSON caller: the error as JSON when its type is
    /// allowed, its type name otherwise.
    func jsonReply(for error: any Error) -> JSONInvocationReply {
        let typeName = String(reflecting: type(of: error))
        guard let entry = state.withLock({ $0.byType[ObjectIdentifier(type(of: error))] }),
              let json = try? entry.json(error)
        else { return .otherError(type: typeName) }
        return .codableError(type: entry.name, json: json)
    }

    /// The error a remote callee sent back.
    func error(named name: String, value: BinaryValue) -> any Error {
        guard let entry = state.withLock({ $0.byName[name] }) else { return GenericRemoteError(typeName: name) }
        return (try? entry.decode(value)) ?? GenericRemoteError(typeName: name)
    }
}

extension ClusterSystem {
    /// Connects this system to the cluster: calls on actors that `resolver` places on
    /// another node go through `router`, and the router's handler must be `callHandler`.
    public func attach(router: Router, resolver: any OwnerResolver) {
        link.withLock { $0 = RemoteLink(router: router, resolver: resolver) }
    }

    /// The handler for the router of this node: runs the calls routed here.
    public var callHandler: any RoutedHandler { ActorCallHandler(system: self) }

    /// Lets `type` travel back to remote callers as itself, under `name` (default its
    /// type name); register it on every node. Other errors arrive as `GenericRemoteError`.
    public func allowRemoteError<E: Error & Codable>(_ type: E.Type, name: String? = nil) {
        remoteErrors.allow(type, name: name ?? String(reflecting: type))
    }

    /// Sends a call to the owner of `id` and turns its reply into an outcome.
    func callRemote(
        _ link: RemoteLink, id: VirtualActorID, chain: CallChainID, method: String, invocation: ClusterInvocationEncoder
    ) async throws -> CallOutcome {
        let message = InvocationMessage(chain: chain, id: id, method: method, arguments: try invocation.encodedArguments())
        let deadline = NIODeadline.now() + .nanoseconds(settings.callTimeout.nanoseconds)
        let reply = try await link.send(id, body: ByteBuffer(bytes: message.encoded()), deadline: deadline) { [catalog] in catalog.liveCount }
        switch try InvocationReply.decode(Array(reply.readableBytesView)) {
        case .value(let value): return .encoded(value)
        case .void: return .void
        case .codableError(let name, let value): return .error(remoteErrors.error(named: name, value: value))
        case .otherError(let name): return .error(GenericRemoteError(typeName: name))
        }
    }

    /// Runs a call that arrived from another node (or that this node routed to itself).
    func handleRemote(_ bytes: [UInt8]) async throws -> [UInt8] {
        if JSONInvocationMessage.matches(bytes) {
            return try await handleJSON(JSONInvocationMessage.decode(bytes)).encoded()
        }
        let message = try InvocationMessage.decode(bytes)
        guard let registration = registry.registration(message.id.kind) else {
            throw LocalityError(.actorNotFound, "no actor kind \(message.id.kind)")
        }
        let target = try registration.target(named: message.method)
        let outcome = try await CallChain.$current.withValue(message.chain) {
            try await catalog.withTurn(message.id, chain: message.chain) { activation in
                try await execute(on: activation.instance, target: target, source: .wire(message.arguments), form: .binary)
            }
        }
        switch outcome {
        case .encoded(let value): return InvocationReply.value(value).encoded()
        case .void: return InvocationReply.void.encoded()
        case .value(let value): throw LocalityError(.internal, "unencoded result \(type(of: value)) for a remote call")
        case .json: throw LocalityError(.internal, "JSON result for a binary remote call")
        case .error(let error as LocalityError): throw error
        case .error(let error): return remoteErrors.reply(for: error).encoded()
        }
    }
}

/// The router's handler: decodes a routed invocation and runs it here.
struct ActorCallHandler: RoutedHandler {
    let system: ClusterSystem

    func handle(_ request: RoutedRequest) async throws -> ByteBuffer {
        ByteBuffer(bytes: try await system.handleRemote(Array(request.body.readableBytesView)))
    }
}
