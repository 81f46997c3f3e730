import Distributed
import LocalityCore

/// The `DistributedActorSystem` requirements.
extension ClusterSystem {
    /// Always nil: every reference is a proxy, so every call, local or not, passes
    /// through `remoteCall` and the activation's turns.
    public func resolve<Act>(id: VirtualActorID, as actorType: Act.Type) throws -> Act?
    where Act: DistributedActor, Act.ID == VirtualActorID {
        nil
    }

    /// The id of an actor being created: the id being activated when a kind's factory runs, else a fresh `_anonymous` id.
    public func assignID<Act>(_ actorType: Act.Type) -> VirtualActorID
    where Act: DistributedActor, Act.ID == VirtualActorID {
        if let id = Self.activating { return id }
        let sequence = anonymousSequenceNext()
        return VirtualActorID(kind: Self.anonymousKind, key: "\(node.name)-\(sequence)")
    }

    /// Nothing to record: activations are tracked by the runtime, not by instance.
    public func actorReady<Act>(_ actor: Act) where Act: DistributedActor, Act.ID == VirtualActorID {}

    /// Nothing to release: ids name actors, not instances.
    public func resignID(_ id: VirtualActorID) {}

    /// A fresh encoder that keeps each argument as a value until the call turns out to be remote.
    public func makeInvocationEncoder() -> ClusterInvocationEncoder {
        ClusterInvocationEncoder()
    }

    /// The one entry point of every call on a reference: runs it as a turn of the local activation (activating it first), or sends it to the node that hosts it, and returns its result.
    public func remoteCall<Act, Err, Res>(
        on actor: Act, target: RemoteCallTarget, invocation: inout ClusterInvocationEncoder,
        throwing: Err.Type, returning: Res.Type
    ) async throws -> Res where Act: DistributedActor, Act.ID == VirtualActorID, Err: Error, Res: Codable {
        let id = actor.id
        let inherited = CallChain.current
        let chain = inherited ?? newChain()
        if let outcome = try await deliverRemote(to: id, chain: chain, target: target, invocation: invocation) {
            return try Self.result(of: outcome, target: target, as: Res.self)
        }
        return try await callLocal(id, chain: chain, inherited: inherited == chain, target: target, arguments: invocation.arguments)
    }

    /// `remoteCall` for a method that returns nothing.
    public func remoteCallVoid<Act, Err>(
        on actor: Act, target: RemoteCallTarget, invocation: inout ClusterInvocationEncoder, throwing: Err.Type
    ) async throws where Act: DistributedActor, Act.ID == VirtualActorID, Err: Error {
        let id = actor.id
        let inherited = CallChain.current
        let chain = inherited ?? newChain()
        if let outcome = try await deliverRemote(to: id, chain: chain, target: target, invocation: invocation) {
            switch outcome {
            case .void, .value, .encoded, .json: return
            case .error(let error): throw error
            }
        }
        try await callLocal(id, chain: chain, inherited: inherited == chain, target: target, arguments: invocation.arguments) as Void
    }

    /// Runs a call on the local activation of `id` and returns its result as is (no
    /// serialization). Fast path: the activation is ready and its turn free (or held by
    /// `chain`): no suspension before the method runs. Otherwise `withTurn` activates
    /// and queues. `inherited`: the task already runs in `chain` (a nested call), so the
    /// task-local needs no new binding.
    @inline(__always)
    private func callLocal<Res>(
        _ id: VirtualActorID, chain: CallChainID, inherited: Bool, target: RemoteCallTarget, arguments: [InvocationArgument]
    ) async throws -> Res {
        let method = try DistributedTarget.resolve(target)
        let start = clock.now()
        if let (activation, ticket) = catalog.enterReady(id, chain: chain) {
            defer {
                let end = catalog.leave(activation, ticket)
                catalog.metrics.localCalls.recordNanoseconds(end.nanoseconds - start.nanoseconds)
            }
            return try await run(method, on: activation.instance, chain: chain, inherited: inherited, arguments: arguments)
        }
        guard registry.registration(id.kind) != nil else {
            throw LocalityError(.actorNotFound, "no actor kind \(id.kind)")
        }
        defer { catalog.metrics.localCalls.recordNanoseconds(clock.now().nanoseconds - start.nanoseconds) }
        return try await catalog.withTurn(id, chain: chain) { activation in
            try await run(method, on: activation.instance, chain: chain, inherited: inherited, arguments: arguments)
        }
    }

    @inline(__always)
    private func run<Res>(
        _ method: DistributedTarget, on instance: some VirtualActor, chain: CallChainID, inherited: Bool, arguments: [InvocationArgument]
    ) async throws -> Res {
        var decoder = ClusterInvocationDecoder(.local(arguments))
        if inherited {
            return try await method.call(on: instance, decoder: &decoder, returning: Res.self)
        }
        return try await CallChain.$current.withValue(chain) {
            try await method.call(on: instance, decoder: &decoder, returning: Res.self)
        }
    }

    /// The value of a call's outcome, or its error.
    private static func result<Res: Codable>(of outcome: CallOutcome, target: RemoteCallTarget, as: Res.Type) throws -> Res {
        switch outcome {
        case .value(let value):
            guard let result = value as? Res else {
                throw LocalityError(.internal, "\(target) returned \(type(of: value)), expected \(Res.self)")
            }
            return result
        case .encoded(let value):
            return try BinaryDecoder().decodeValue(Res.self, from: value)
        case .json:
            throw LocalityError(.internal, "\(target) returned JSON to a typed caller")
        case .void:
            throw LocalityError(.internal, "\(target) returned nothing, expected \(Res.self)")
        case .error(let error):
            throw error
        }
    }

    /// Sends the call to the owner of `id` when that is another node and returns its
    /// outcome; nil when this node owns `id` or no cluster is attached (the caller runs
    /// it here). Throws `actor_not_found` for an unregistered kind when attached.
    private func deliverRemote(
        to id: VirtualActorID, chain: CallChainID, target: RemoteCallTarget, invocation: ClusterInvocationEncoder
    ) async throws -> CallOutcome? {
        guard let link = link.withLock({ $0 }) else { return nil }
        guard let registration = registry.registration(id.kind) else {
            throw LocalityError(.actorNotFound, "no actor kind \(id.kind)")
        }
        if let placement = link.placement {
            return try await deliverPlaced(
                link, placement, id: id, chain: chain, method: registration.stableName(of: target), target: target, invocation: invocation)
        }
        guard let owner = link.resolver.owner(of: id.routingKey), owner != node else { return nil }
        let start = clock.now()
        defer { catalog.metrics.remoteCalls.recordNanoseconds(clock.now().nanoseconds - start.nanoseconds) }
        return try await callRemote(link, id: id, chain: chain, method: registration.stableName(of: target), invocation: invocation)
    }

    /// Runs `target` on a local instance and collects its outcome.
    func execute<A: VirtualActor>(
        on instance: A, target: RemoteCallTarget, source: ClusterInvocationDecoder.Source, form: ResultForm
    ) async throws -> CallOutcome {
        var decoder = ClusterInvocationDecoder(source)
        let sink = CallOutcomeSink(form: form)
        do {
            try await DistributedTarget.resolve(target).execute(on: instance, decoder: &decoder, handler: ClusterResultHandler(sink: sink))
        } catch let error as LocalityError {
            throw error
        } catch let error as ExecuteDistributedTargetError {
            throw LocalityError(.badRequest, "cannot run \(target) on \(instance.id): \(error.message)")
        }
        return try sink.take()
    }

    private func anonymousSequenceNext() -> UInt64 {
        anonymousSequence.add(1, ordering: .relaxed).newValue
    }
}
