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

    public func assignID<Act>(_ actorType: Act.Type) -> VirtualActorID
    where Act: DistributedActor, Act.ID == VirtualActorID {
        if let id = Self.activating { return id }
        let sequence = anonymousSequenceNext()
        return VirtualActorID(kind: Self.anonymousKind, key: "\(node.name)-\(sequence)")
    }

    public func actorReady<Act>(_ actor: Act) where Act: DistributedActor, Act.ID == VirtualActorID {}

    public func resignID(_ id: VirtualActorID) {}

    public func makeInvocationEncoder() -> ClusterInvocationEncoder {
        ClusterInvocationEncoder()
    }

    public func remoteCall<Act, Err, Res>(
        on actor: Act, target: RemoteCallTarget, invocation: inout ClusterInvocationEncoder,
        throwing: Err.Type, returning: Res.Type
    ) async throws -> Res where Act: DistributedActor, Act.ID == VirtualActorID, Err: Error, Res: Codable {
        switch try await deliver(to: actor.id, target: target, invocation: invocation) {
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

    public func remoteCallVoid<Act, Err>(
        on actor: Act, target: RemoteCallTarget, invocation: inout ClusterInvocationEncoder, throwing: Err.Type
    ) async throws where Act: DistributedActor, Act.ID == VirtualActorID, Err: Error {
        switch try await deliver(to: actor.id, target: target, invocation: invocation) {
        case .void, .value, .encoded, .json: return
        case .error(let error): throw error
        }
    }

    /// Runs a call on the activation of `id` in this node.
    func deliver(to id: VirtualActorID, target: RemoteCallTarget, invocation: ClusterInvocationEncoder) async throws -> CallOutcome {
        guard let registration = registry.registration(id.kind) else {
            throw LocalityError(.actorNotFound, "no actor kind \(id.kind)")
        }
        let chain = CallChain.current ?? newChain()
        if let link = link.withLock({ $0 }), let placement = link.placement {
            return try await deliverPlaced(
                link, placement, id: id, chain: chain, method: registration.stableName(of: target), target: target, invocation: invocation)
        }
        if let link = link.withLock({ $0 }), let owner = link.resolver.owner(of: id.routingKey), owner != node {
            return try await callRemote(link, id: id, chain: chain, method: registration.stableName(of: target), invocation: invocation)
        }
        let arguments = invocation.arguments
        return try await CallChain.$current.withValue(chain) {
            try await catalog.withTurn(id, chain: chain) { activation in
                try await execute(on: activation.instance, target: target, source: .local(arguments), form: .value)
            }
        }
    }

    /// Runs `target` on a local instance and collects its outcome.
    func execute<A: VirtualActor>(
        on instance: A, target: RemoteCallTarget, source: ClusterInvocationDecoder.Source, form: ResultForm
    ) async throws -> CallOutcome {
        var decoder = ClusterInvocationDecoder(source)
        let sink = CallOutcomeSink(form: form)
        do {
            try await executeDistributedTarget(on: instance, target: target, invocationDecoder: &decoder, handler: ClusterResultHandler(sink: sink))
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
