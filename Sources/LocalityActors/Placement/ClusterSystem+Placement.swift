import Distributed
import LocalityCore
import LocalityPlacement
import LocalityRouting
import NIOCore

/// Directory-backed placement (`ActorSettings.placement`): attaching a directory, routing
/// calls to the recorded activation, registering and unregistering activations.
extension ClusterSystem {
    /// Connects this system to the cluster with an activation directory. With a
    /// directory-backed `settings.placement` every call finds its activation through
    /// `directory` (placing and registering new ones); with `.hashOwner` the directory is
    /// not used and this is `attach(router:resolver:)`. Create the directory with
    /// `onConflict: system.directoryConflictHandler` and keep it in step with the ring
    /// (`followDirectory`).
    public func attach(router: Router, resolver: any OwnerResolver, directory: DirectoryService) {
        let placement = settings.placement.usesDirectory
            ? DirectoryPlacement(local: node, directory: directory, mode: settings.placement) : nil
        link.withLock { $0 = RemoteLink(router: router, resolver: resolver, placement: placement) }
    }

    /// For the directory's `onConflict`: a hand-off met a newer registration; when the
    /// losing activation is hosted here it is deactivated.
    public var directoryConflictHandler: @Sendable (DirectoryConflict) -> Void {
        { [weak self] conflict in self?.directoryLost(key: conflict.key, address: conflict.loser) }
    }

    /// Keeps the directory in step with `resolver` until the task is cancelled; after each
    /// ring change re-registers the hosted activations whose partition moved and
    /// deactivates those that lost to another activation. Nil in `.hashOwner` mode.
    public func followDirectory(_ resolver: RingOwnerResolver) -> Task<Void, Never>? {
        guard let placement = link.withLock({ $0?.placement }) else { return nil }
        let timeout = settings.callTimeout
        let lost: @Sendable (String, ActivationAddress) -> Void = { [weak self] key, address in
            self?.directoryLost(key: key, address: address)
        }
        return Task {
            await placement.directory.follow(resolver) { change in
                let deadline = NIODeadline.now() + .nanoseconds(timeout.nanoseconds)
                let outcomes = await placement.directory.reRegister(
                    placement.hostedEntries, from: change.previous, to: change.current, deadline: deadline)
                for case .lost(let key, let address, _) in outcomes {
                    lost(key, address)
                }
            }
        }
    }

    /// Tells two-choices placement how many activations `node` hosts (e.g. from gossip);
    /// without reports a node counts its own activations and the ones it placed elsewhere.
    public func reportLoad(of node: NodeID, activations: Int) {
        link.withLock { $0?.placement }?.reportLoad(of: node, activations: activations)
    }

    /// What directory-backed placement did on this node (zero in `.hashOwner` mode).
    public var placementStats: PlacementCounters {
        link.withLock { $0?.placement }?.stats ?? PlacementCounters()
    }

    // MARK: Calls

    /// A call in directory mode: runs here when the directory (or the strategy) puts the
    /// activation here, else goes to the chosen node through the router.
    func deliverPlaced(
        _ link: RemoteLink, _ placement: DirectoryPlacement, id: VirtualActorID, chain: CallChainID, method: String,
        target: RemoteCallTarget, invocation: ClusterInvocationEncoder
    ) async throws -> CallOutcome {
        let deadline = NIODeadline.now() + .nanoseconds(settings.callTimeout.nanoseconds)
        if try await placement.host(of: id, failed: nil, localLoad: activationCount, deadline: deadline) == node {
            let arguments = invocation.arguments
            do {
                return try await CallChain.$current.withValue(chain) {
                    try await catalog.withTurn(id, chain: chain) { activation in
                        try await execute(on: activation.instance, target: target, source: .local(arguments), form: .value)
                    }
                }
            } catch let error as LocalityError where error.code == .notOwner {
                // Another node registered first: call the winner.
                placement.directory.invalidateCache(id.routingKey)
            }
        }
        return try await callRemote(link, id: id, chain: chain, method: method, invocation: invocation)
    }

    /// Creates the activation of `id`, registering it first in directory mode.
    func activatePlaced(_ id: VirtualActorID) async throws -> any VirtualActor {
        guard let placement = link.withLock({ $0?.placement }) else { return try await activate(id) }
        try await placement.claim(id, deadline: NIODeadline.now() + .nanoseconds(settings.callTimeout.nanoseconds))
        do {
            return try await activate(id)
        } catch {
            if let address = placement.takeHosted(id) {
                await placement.release(id, address: address, deadline: releaseDeadline())
            }
            throw error
        }
    }

    /// The catalog's departure hook: takes the directory address of the activation of
    /// `id` leaving this node (synchronously, before a new activation can start) and
    /// returns the unregister to run.
    func placementDeparture(_ id: VirtualActorID) -> @Sendable () async -> Void {
        guard let placement = link.withLock({ $0?.placement }), let address = placement.takeHosted(id) else { return {} }
        let deadline = releaseDeadline()
        return { await placement.release(id, address: address, deadline: deadline) }
    }

    /// Deactivates the hosted activation recorded as `address` for `key`: the directory
    /// keeps another one.
    func directoryLost(key: String, address: ActivationAddress) {
        guard address.node == node, let placement = link.withLock({ $0?.placement }),
              let id = placement.hostedID(key: key, address: address)
        else { return }
        logger.warning("directory chose another activation: deactivating", metadata: ["actor": "\(id)"])
        placement.countLostActivation()
        catalog.deactivateLoser(id)
    }

    private func releaseDeadline() -> NIODeadline {
        NIODeadline.now() + .nanoseconds(min(settings.callTimeout, .seconds(2)).nanoseconds)
    }
}

extension RemoteLink {
    /// Routes `body` for `id`: to the directory's (or strategy's) node in directory mode,
    /// to the ring owner otherwise; the router retries on `not_owner`/unreachable.
    func send(_ id: VirtualActorID, body: ByteBuffer, deadline: NIODeadline, localLoad: @escaping @Sendable () -> Int) async throws -> ByteBuffer {
        guard let placement else {
            return try await router.handleOrForward(key: id.routingKey, body: body, deadline: deadline)
        }
        return try await router.handleOrForward(key: id.routingKey, body: body, deadline: deadline) { failed in
            try await placement.host(of: id, failed: failed, localLoad: localLoad(), deadline: deadline)
        }
    }
}
