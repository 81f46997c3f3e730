import CoreMetrics
import LocalityCore
import LocalityTransport
import NIOCore
import Synchronization

/// A request as the owner's local handler sees it.
public struct RoutedRequest: Sendable {
    /// The routing key (user id, room id, actor id…).
    public var key: String
    /// The caller's bytes.
    public var body: ByteBuffer
    /// When the original caller stops waiting.
    public var deadline: NIODeadline
    /// Forwards taken to get here (0 when the entry node owns the key).
    public var hops: Int

    /// A request for `key` that took `hops` forwards and must answer by `deadline`.
    public init(key: String, body: ByteBuffer, deadline: NIODeadline, hops: Int) {
        self.key = key
        self.body = body
        self.deadline = deadline
        self.hops = hops
    }
}

/// Serves the requests whose key this node owns. Throw `not_owner` when the key turns
/// out to live elsewhere (the caller's router re-resolves and retries).
public protocol RoutedHandler: Sendable {
    /// Answers `request` with the reply bytes, or throws a `LocalityError` (`not_owner` to send the caller elsewhere).
    func handle(_ request: RoutedRequest) async throws -> ByteBuffer
}

/// Handle or forward (Ringpop's `handleOrForward`): any node takes any request; the
/// router resolves the key's owner, runs the local handler when it is this node, and
/// forwards over the node transport otherwise.
///
/// Retries: on `not_owner`, or when the owner cannot be reached before the request went
/// out (connection refused, node draining), it re-resolves and tries again (a connection
/// lost with the request in flight is not retried: `outcome_unknown`), at most `retryBudget` more times
/// and never past the caller's deadline; other errors return at once. Every outcome is a
/// reply or a `LocalityError` with a code: nothing is dropped silently.
///
/// Loops: each forward carries a hop count; a node asked to forward a request that has
/// already taken `maxHops` forwards answers `unavailable` with a message starting with
/// `Router.hopLimitMessage`. That error is not retried, so disagreeing views cost at most
/// `maxHops` forwards per attempt, not a storm.
///
/// The router is also the node's `TransportHandler` (inbound forwards); attach the
/// transport after creating both: `router.attach(transport)`.
public final class Router: TransportHandler {
    /// Prefix of the `unavailable` message for an owner this node cannot connect to (the
    /// request was not sent): such a request waits for membership to replace the owner.
    public static let unreachableOwnerMessage = "cannot reach the owner"

    /// Prefix of the `unavailable` message for an owner whose address answers as another
    /// node (retried within the budget, without waiting for the ring).
    public static let wrongPeerMessage = "owner is unreachable, another node answers at its address:"

    /// Prefix of the `unavailable` message for a request that hit the hop limit.
    public static let hopLimitMessage = "hop limit reached"

    /// This node.
    public let local: NodeID
    private let resolver: any OwnerResolver
    private let addresses: any MemberAddressBook
    private let handler: any RoutedHandler
    private let settings: RoutingSettings
    private let transport = Mutex<NodeTransport?>(nil)
    private let counters = Mutex(RoutingCounters())
    private let forwardsCounter: Counter
    private let retriesCounter: Counter
    private let hopLimitCounter: Counter
    private let ownerWaits: Counter
    private let waitingGauge: Gauge
    /// Calls now waiting for an unreachable owner to be replaced (≤ `maxWaitingForOwner`).
    private let waitingForOwner = Atomic<Int>(0)

    /// Calls now waiting for an unreachable owner to be replaced (what
    /// `locality_routing_waiting_for_owner` shows).
    public var callsWaitingForOwner: Int { max(0, waitingForOwner.load(ordering: .relaxed)) }

    /// A router for node `local`: owners from `resolver`, their transport addresses from `addresses`, local requests to `handler`. Call `attach(_:)` before forwarding.
    public init(
        local: NodeID, resolver: any OwnerResolver, addresses: any MemberAddressBook, handler: any RoutedHandler,
        settings: RoutingSettings = RoutingSettings()
    ) {
        self.local = local
        self.resolver = resolver
        self.addresses = addresses
        self.handler = handler
        self.settings = settings
        let labels = [("node", local.name)]
        forwardsCounter = Counter(label: "locality_routing_forwards", dimensions: labels)
        retriesCounter = Counter(label: "locality_routing_retries", dimensions: labels)
        hopLimitCounter = Counter(label: "locality_routing_hop_limit", dimensions: labels)
        ownerWaits = Counter(label: "locality_routing_owner_waits", dimensions: labels)
        waitingGauge = Gauge(label: "locality_routing_waiting_for_owner", dimensions: labels)
    }

    /// Connects the router to the transport it forwards over.
    public func attach(_ transport: NodeTransport) {
        self.transport.withLock { $0 = transport }
    }

    /// What this router did so far.
    public var stats: RoutingCounters { counters.withLock { $0 } }

    /// The owner of `key` in this node's current view.
    public func owner(of key: String) -> NodeID? {
        resolver.owner(of: key)
    }

    /// Routes a request for `key` entering the cluster at this node.
    public func handleOrForward(key: String, body: ByteBuffer, deadline: NIODeadline) async throws -> ByteBuffer {
        try await route(RoutedEnvelope(hops: 0, key: key, body: body), deadline: deadline)
    }

    /// Runs `body` here when this node owns `key` in its current view: a caller's shortcut
    /// for a request it would route to itself, without encoding it into an envelope.
    /// Returns nil when another node owns the key, or when `body` failed with an error the
    /// router retries (`not_owner`, a retryable `unavailable`): then route the request
    /// with `handleOrForward`, which counts from there.
    public func runIfLocalOwner<T: Sendable>(key: String, _ body: () async throws -> T) async throws -> T? {
        guard resolver.owner(of: key) == local else { return nil }
        counters.withLock { $0.handledLocally += 1 }
        do {
            return try await body()
        } catch let error as LocalityError where isRetryable(error) {
            return nil
        }
    }

    /// Routes a request for `key` to the node `resolve` names (directory-backed placement)
    /// instead of the ring owner. `resolve` is asked again before each retry, with the node
    /// whose attempt failed (`not_owner` or unreachable), so it can drop a stale cached
    /// address; retries, budget and deadline are those of `handleOrForward(key:body:deadline:)`.
    /// The request travels as a direct envelope: the chosen node runs it, never forwards it.
    public func handleOrForward(
        key: String, body: ByteBuffer, deadline: NIODeadline,
        resolve: @escaping @Sendable (_ failed: NodeID?) async throws -> NodeID
    ) async throws -> ByteBuffer {
        try await route(RoutedEnvelope(hops: 0, key: key, body: body, direct: true), deadline: deadline, resolve: resolve)
    }

    /// Inbound forward from another node's router.
    public func handle(_ request: TransportRequest) async throws -> ByteBuffer {
        let envelope = try RoutedEnvelope.decode(request.payload)
        let deadline = request.deadline ?? .now() + .seconds(30)
        if envelope.direct {
            counters.withLock { $0.handledLocally += 1 }
            return try await handler.handle(RoutedRequest(key: envelope.key, body: envelope.body, deadline: deadline, hops: envelope.hops))
        }
        return try await route(envelope, deadline: deadline)
    }

    private func route(
        _ envelope: RoutedEnvelope, deadline: NIODeadline,
        resolve: (@Sendable (_ failed: NodeID?) async throws -> NodeID)? = nil
    ) async throws -> ByteBuffer {
        var retries = 0
        var failed: NodeID?
        while true {
            guard NIODeadline.now() < deadline else {
                throw LocalityError(.deadlineExceeded, "deadline passed while routing key \(envelope.key)")
            }
            let resolved: NodeID? = if let resolve { try await resolve(failed) } else { resolver.owner(of: envelope.key) }
            guard let owner = resolved else {
                throw LocalityError(.unavailable, "no member owns key \(envelope.key): the member list is empty")
            }
            failed = owner
            do {
                if owner == local {
                    counters.withLock { $0.handledLocally += 1 }
                    return try await handler.handle(RoutedRequest(key: envelope.key, body: envelope.body, deadline: deadline, hops: envelope.hops))
                }
                return try await forward(envelope, to: owner, deadline: deadline)
            } catch let error as LocalityError where isRetryable(error) {
                // An unreachable ring owner: wait for membership to replace it, then route
                // again (no retry spent). The call never reached it, so `unavailable` stays
                // the answer if the deadline comes first.
                if error.code == .unavailable, resolve == nil, owner != local, error.message.hasPrefix(Self.unreachableOwnerMessage) {
                    switch await waitForNewOwner(of: envelope.key, replacing: owner, deadline: deadline) {
                    case .replaced, .retrySameOwner: continue
                    case .deadline: throw error
                    case .full: break
                    }
                }
                guard retries < settings.retryBudget else { throw error }
                retries += 1
                counters.withLock { $0.retries += 1 }
                retriesCounter.increment()
                let pause = settings.retryDelay.nanoseconds.multipliedReportingOverflow(by: 1 << min(retries - 1, 20)).partialValue
                let remaining = (deadline - .now()).nanoseconds
                try await Task.sleep(for: .nanoseconds(max(0, min(pause, remaining / 2))))
            }
        }
    }

    private enum OwnerWait { case replaced, retrySameOwner, deadline, full }

    /// Waits until `key` has another owner than `failed` on the ring (`replaced`), for
    /// at most `ownerRetryInterval` (`retrySameOwner`: a connect failure may have been
    /// brief), or until too little of the deadline is left (`deadline`); `full` when
    /// `maxWaitingForOwner` calls already wait.
    private func waitForNewOwner(of key: String, replacing failed: NodeID, deadline: NIODeadline) async -> OwnerWait {
        let waiting = waitingForOwner.add(1, ordering: .relaxed).newValue
        defer { waitingGauge.record(waitingForOwner.subtract(1, ordering: .relaxed).newValue) }
        guard waiting <= settings.maxWaitingForOwner else { return .full }
        waitingGauge.record(waiting)
        ownerWaits.increment()
        var pause = Duration.milliseconds(5)
        let started = ContinuousClock.now
        while true {
            if let owner = resolver.owner(of: key), owner != failed { return .replaced }
            if ContinuousClock.now - started >= settings.ownerRetryInterval { return .retrySameOwner }
            // Keep a margin to answer before the caller's deadline.
            let remaining = Duration.nanoseconds((deadline - .now()).nanoseconds)
            guard remaining > pause + .milliseconds(20) else { return .deadline }
            try? await Task.sleep(for: pause)
            if Task.isCancelled { return .deadline }
            pause = min(pause * 2, settings.ownerWaitPoll)
        }
    }

    private func forward(_ envelope: RoutedEnvelope, to owner: NodeID, deadline: NIODeadline) async throws -> ByteBuffer {
        guard envelope.hops < settings.maxHops else {
            counters.withLock { $0.hopLimitHits += 1 }
            hopLimitCounter.increment()
            throw LocalityError(.unavailable, "\(Self.hopLimitMessage): key \(envelope.key) took \(envelope.hops) forwards without reaching its owner (views disagree)")
        }
        guard let address = addresses.address(of: owner) else {
            throw LocalityError(.unavailable, "owner \(owner) of key \(envelope.key) has no known address")
        }
        guard let transport = transport.withLock({ $0 }) else {
            throw LocalityError(.internal, "router of \(local) has no transport attached")
        }
        try await confirmIdentity(of: owner, at: address, via: transport, key: envelope.key, deadline: deadline)
        counters.withLock { $0.forwarded += 1 }
        forwardsCounter.increment()
        var next = envelope
        next.hops += 1
        return try await transport.call(address, payload: next.encoded(), deadline: deadline)
    }

    /// Sticky routing must reach the owner itself, not whoever listens at its last known
    /// address: a peer there that fails the cluster-key handshake (another cluster took
    /// the port) or is another node (the owner restarted under a new uid) makes the owner
    /// `unavailable` to us, which is retried after re-resolving. The identity is the one
    /// authenticated by the handshake and cached with the connection.
    private func confirmIdentity(
        of owner: NodeID, at address: NodeAddress, via transport: NodeTransport, key: String, deadline: NIODeadline
    ) async throws {
        let identity: NodeID
        do {
            identity = try await transport.peerIdentity(address, deadline: deadline)
        } catch let error as LocalityError where error.code == .unavailable {
            // Raised here, before anything was sent: the owner itself cannot be reached.
            throw LocalityError(.unavailable, "\(Self.unreachableOwnerMessage) \(owner) of key \(key) at \(address): \(error.message)")
        } catch let error as LocalityError where error.code == .unauthenticated {
            throw LocalityError(.unavailable, "\(Self.wrongPeerMessage) \(owner) of key \(key): the peer at \(address) is not in this cluster (\(error.message))")
        }
        guard identity == owner else {
            throw LocalityError(.unavailable, "\(Self.wrongPeerMessage) \(owner) of key \(key): \(address) is now \(identity)")
        }
    }

    private func isRetryable(_ error: LocalityError) -> Bool {
        switch error.code {
        case .notOwner: true
        // Never `outcome_unknown` (a lost connection with the request in flight): the owner
        // may have run it, and resending could apply a non-idempotent call twice (the
        // caller decides, with an idempotency key).
        case .unavailable: !error.message.hasPrefix(Self.hopLimitMessage)
        default: false
        }
    }
}

/// Counts of what a router did, for tests and `status`.
public struct RoutingCounters: Sendable, Equatable {
    /// Requests run by the local handler.
    public var handledLocally = 0
    /// Requests sent to another node.
    public var forwarded = 0
    /// Re-resolutions after `not_owner` or an unreachable owner.
    public var retries = 0
    /// Requests refused because they reached the hop limit.
    public var hopLimitHits = 0
}
