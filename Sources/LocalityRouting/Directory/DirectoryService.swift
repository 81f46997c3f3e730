import LocalityCore
import LocalityPlacement
import LocalityTransport
import NIOCore
import Synchronization

/// The activation directory over the network: one node's `ActivationDirectory` partition
/// and `DirectoryCache`, reachable from every node through the node transport.
///
/// A call (`lookup`, `register`, `unregister`, `move`) goes to the partition owner of its
/// key in this node's current ring: this node's own partition when it is the owner, else
/// one transport call. Lookups try the cache first (a hit sends nothing); remote answers
/// update the cache, `unregister` and `not_owner` invalidate it. On `not_owner` (views
/// disagree) the call goes straight to the owner the refusing node named, when this node
/// knows its address, at most `maxRedirects` times in a row; after that, or when the owner
/// is unreachable, it retries from its own view after a backoff, at most `retryBudget`
/// times, never past its deadline (the rule `DirectorySimNode` runs in the simulator). This is Orleans' remote
/// grain directory (docs/placement.md, "The directory over the network").
///
/// Membership changes: `updateRing` applies a new view to the partition (entries of
/// departed nodes are dropped, entries whose partition moved are sent to their new owners
/// as hand-offs) and drops cache entries of departed nodes. A partition that died with its
/// node is rebuilt by the hosts: `reRegister` (Orleans 9 `DistributedGrainDirectory`).
/// Conflicts found while merging a hand-off go to `onConflict` on the node that merged it;
/// the loser's host is to deactivate it.
///
/// Serve it on the node transport next to the router with `TransportServiceMux`, then
/// `attach` the transport.
public final class DirectoryService: TransportHandler {
    struct State {
        var directory: ActivationDirectory
        var cache: DirectoryCache
        var counters = DirectoryServiceCounters()
    }

    private enum Route {
        case answered(DirectoryReply)
        case remote(NodeID)
    }

    /// `not_owner` hints followed one after the other (no pause, no retry spent) before
    /// falling back to a retry from this node's own view, as in the simulator.
    public static let maxRedirects = 2

    /// This node.
    public let local: NodeID
    /// Configuration.
    public let settings: DirectoryServiceSettings
    let addresses: any MemberAddressBook
    private let onConflict: @Sendable (DirectoryConflict) -> Void
    private let transport = Mutex<NodeTransport?>(nil)
    private let state: Mutex<State>

    /// Runs `body` on the partition, cache and counters under the lock.
    func withState<Result: Sendable>(_ body: (inout State) -> Result) -> Result { state.withLock { body(&$0) } }

    /// A service for `local` whose partition starts with `ring` (build it with
    /// `settings.directory.ring`), resolving member transport addresses with `addresses`.
    public init(
        local: NodeID, ring: HashRing, addresses: any MemberAddressBook,
        settings: DirectoryServiceSettings = DirectoryServiceSettings(),
        onConflict: @escaping @Sendable (DirectoryConflict) -> Void = { _ in }
    ) {
        self.local = local
        self.settings = settings
        self.addresses = addresses
        self.onConflict = onConflict
        let cache = DirectoryCache(
            capacity: settings.directory.cacheCapacity, random: SeededRandom(seed: settings.cacheSeed ^ local.uid))
        self.state = Mutex(State(directory: ActivationDirectory(local: local, ring: ring, settings: settings.directory), cache: cache))
    }

    /// Connects the service to the transport it calls other partitions over.
    public func attach(_ transport: NodeTransport) {
        self.transport.withLock { $0 = transport }
    }

    // MARK: Inspection

    /// What this service did so far.
    public var stats: DirectoryServiceCounters { state.withLock { $0.counters } }
    /// The ring this node's partition is in step with.
    public var ring: HashRing { state.withLock { $0.directory.ring } }
    /// Hand-off entries this partition dropped (not its key in its view, or full); their
    /// hosts' re-registration brings them back.
    public var droppedHandOffEntries: Int { state.withLock { $0.directory.droppedHandOffEntries } }
    /// Entries held by this node's partition.
    public var partitionCount: Int { state.withLock { $0.directory.count } }
    /// The entry of `key` in this node's partition, if it holds one.
    public func partitionEntry(for key: String) -> ActivationAddress? { state.withLock { $0.directory.entry(for: key) } }
    /// The cached address of `key`, if any.
    public func cachedAddress(of key: String) -> ActivationAddress? { state.withLock { $0.cache.address(of: key) } }
    /// Drops the cached address of `key` (the runtime calls it when a call to the cached
    /// activation fails because it is gone).
    public func invalidateCache(_ key: String) { state.withLock { $0.cache.invalidate(key) } }

    // MARK: Calls

    /// Where `key` is active: the cache, else its partition owner; nil when none is recorded.
    public func lookup(_ key: String, deadline: NIODeadline) async throws -> ActivationAddress? {
        let cached = state.withLock { state -> ActivationAddress? in
            guard let address = state.cache.address(of: key) else { return nil }
            state.counters.cacheHits += 1
            return address
        }
        if let cached { return cached }
        switch try await send(.lookup(key: key), deadline: deadline) {
        case .found(let address): return address
        case .notFound: return nil
        case let reply: throw Self.unexpected(reply, to: "lookup")
        }
    }

    /// Registers `address` as the activation of `key`; returns the recorded activation:
    /// `address` when it won, the existing one when a live activation was registered first
    /// (the caller must then not keep its own).
    public func register(_ key: String, address: ActivationAddress, deadline: NIODeadline) async throws -> ActivationAddress {
        switch try await send(.register(key: key, address: address), deadline: deadline) {
        case .registered(let recorded): return recorded
        case let reply: throw Self.unexpected(reply, to: "register")
        }
    }

    /// Removes the entry of `key` if it is exactly `address` (node and epoch); returns
    /// whether it was removed.
    public func unregister(_ key: String, address: ActivationAddress, deadline: NIODeadline) async throws -> Bool {
        switch try await send(.unregister(key: key, address: address), deadline: deadline) {
        case .unregistered(let removed): return removed
        case let reply: throw Self.unexpected(reply, to: "unregister")
        }
    }

    /// Points `key` at `address`; returns the activation it replaced (to deactivate).
    public func move(_ key: String, to address: ActivationAddress, deadline: NIODeadline) async throws -> ActivationAddress {
        switch try await send(.move(key: key, to: address), deadline: deadline) {
        case .moved(let replaced): return replaced
        case .notFound: throw LocalityError(.actorNotFound, "no live activation of \(key) to move")
        case let reply: throw Self.unexpected(reply, to: "move")
        }
    }

    /// Sends `request` to the partition owner of its key and returns the owner's answer.
    /// Refusals come back as thrown `LocalityError`s with their code once the rules above
    /// are exhausted: `unavailable` (owner unreachable, or the owner does not yet see the
    /// activation's node) is retried within the budget like `not_owner`; `overloaded` is
    /// thrown at once.
    public func send(_ request: DirectoryRequest, deadline: NIODeadline) async throws -> DirectoryReply {
        let key = request.key
        var retries = 0
        var redirects = 0
        var hint: NodeID?
        while true {
            guard NIODeadline.now() < deadline else {
                throw LocalityError(.deadlineExceeded, "deadline passed while asking the directory about \(key)")
            }
            let route = try route(request, hint: hint)
            hint = nil
            do {
                let reply: DirectoryReply
                switch route {
                case .answered(let answer): reply = answer
                case .remote(let owner): reply = try await call(request, on: owner, deadline: deadline)
                }
                if case .rejected(.notOwner, let owner) = reply {
                    state.withLock { $0.cache.invalidate(key) }
                    if let owner, owner != local, redirects < Self.maxRedirects, addresses.address(of: owner) != nil {
                        redirects += 1
                        hint = owner
                        state.withLock { $0.counters.redirects += 1 }
                        continue
                    }
                    guard retries < settings.retryBudget else {
                        throw LocalityError(.notOwner, "directory owner of \(key) not found after \(retries) retries (views disagree)")
                    }
                    retries += 1
                    redirects = 0
                    try await pause(retries: retries, deadline: deadline)
                    continue
                }
                if case .rejected(let code, _) = reply {
                    throw LocalityError(code, "directory refused \(key): \(code.rawValue)")
                }
                if case .remote = route { remember(request, reply) }
                return reply
            } catch let error as LocalityError where error.code == .unavailable && retries < settings.retryBudget {
                retries += 1
                redirects = 0
                try await pause(retries: retries, deadline: deadline)
            }
        }
    }

    /// Resolves the owner in this node's view; runs the request here when it is us.
    private func route(_ request: DirectoryRequest, hint: NodeID?) throws(LocalityError) -> Route {
        let route = state.withLock { state -> Route? in
            guard let owner = hint ?? state.directory.owner(of: request.key) else { return nil }
            guard owner == local else { return .remote(owner) }
            state.counters.handledLocally += 1
            let reply = state.directory.handle(request)
            if case .unregister = request { state.cache.invalidate(request.key) }
            return .answered(reply)
        }
        guard let route else {
            throw LocalityError(.unavailable, "no member owns directory key \(request.key): the ring is empty")
        }
        return route
    }

    private func call(_ request: DirectoryRequest, on owner: NodeID, deadline: NIODeadline) async throws -> DirectoryReply {
        guard let address = addresses.address(of: owner) else {
            throw LocalityError(.unavailable, "directory owner \(owner) of \(request.key) has no known address")
        }
        let transport = try attachedTransport()
        state.withLock { $0.counters.remoteRequests += 1 }
        let payload = try DirectoryMessage.request(request).encoded()
        let answer = try await transport.call(address, payload: payload, deadline: deadline)
        guard case .reply(let reply) = try DirectoryMessage.decode(answer) else {
            throw LocalityError(.internal, "directory owner \(owner) answered \(request.key) with a non-reply")
        }
        return reply
    }

    /// Cache rules for a remote answer.
    private func remember(_ request: DirectoryRequest, _ reply: DirectoryReply) {
        state.withLock { state in
            switch (request, reply) {
            case (.lookup(let key), .found(let address)), (.register(let key, _), .registered(let address)):
                state.cache.store(key, address)
            case (.move(let key, let address), .moved):
                state.cache.store(key, address)
            default:
                state.cache.invalidate(request.key)
            }
        }
    }

    private func pause(retries: Int, deadline: NIODeadline) async throws {
        state.withLock { $0.counters.retries += 1 }
        let pause = settings.retryDelay.nanoseconds.multipliedReportingOverflow(by: 1 << min(retries - 1, 20)).partialValue
        let remaining = (deadline - .now()).nanoseconds
        try await Task.sleep(for: .nanoseconds(max(0, min(pause, remaining / 2))))
    }

    func attachedTransport() throws(LocalityError) -> NodeTransport {
        guard let transport = transport.withLock({ $0 }) else {
            throw LocalityError(.internal, "directory service of \(local) has no transport attached")
        }
        return transport
    }

    private static func unexpected(_ reply: DirectoryReply, to operation: String) -> LocalityError {
        LocalityError(.internal, "directory answered \(operation) with \(reply)")
    }

    // MARK: Inbound

    /// Inbound directory message from another node's service.
    public func handle(_ request: TransportRequest) async throws -> ByteBuffer {
        switch try DirectoryMessage.decode(request.payload) {
        case .request(let directoryRequest):
            let reply = state.withLock { state in
                state.counters.servedRemote += 1
                return state.directory.handle(directoryRequest)
            }
            return try DirectoryMessage.reply(reply).encoded()
        case .handOff(let handOff):
            guard handOff.target == local else {
                throw LocalityError(.badRequest, "hand-off for \(handOff.target) reached \(local)")
            }
            let conflicts = state.withLock { state in
                let conflicts = state.directory.acceptHandOff(handOff)
                state.counters.handOffsReceived += 1
                state.counters.conflicts += conflicts.count
                return conflicts
            }
            for conflict in conflicts { onConflict(conflict) }
            return try DirectoryMessage.handOffAccepted(conflicts: conflicts.count).encoded()
        case .reply, .handOffAccepted:
            throw LocalityError(.badRequest, "directory answer sent as a request")
        }
    }
}
