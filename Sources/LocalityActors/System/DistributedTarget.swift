import Distributed
import LocalityCore
import Synchronization

/// One distributed method, resolved once from its mangled name: the parameter types and
/// the return type the Swift runtime needs to run it.
///
/// The standard library's `executeDistributedTarget` demangles the target name on every
/// call (generic environment, parameter count, parameter types, return type: about half
/// of a local call). `DistributedTarget.resolve` does that once per method and keeps the
/// result; `run` then enters the runtime's `swift_distributed_execute_target` directly,
/// the entry the standard library itself calls after its demangling.
///
/// Generic methods are refused (`bad_request`), as `ClusterInvocationEncoder` refuses them.
///
/// Bound: at most `cacheLimit` targets are kept (a binary has a fixed set of distributed
/// methods, far fewer). Past the bound a target is resolved on each call (slower, correct)
/// and counted in `uncachedResolutions`.
final class DistributedTarget: @unchecked Sendable {
    // @unchecked: every field is immutable after init; the buffers are never written again.

    /// The mangled identifier (`RemoteCallTarget.identifier`).
    let identifier: String
    /// Its UTF-8 bytes, kept for the runtime call.
    private let name: UnsafeMutableBufferPointer<UInt8>
    private let nameLength: UInt
    /// The parameter types, in order (the runtime reads them to lay out arguments).
    private let argumentTypes: UnsafeMutableBufferPointer<any Any.Type>
    /// The declared return type (`Void` for none).
    let returnType: any Any.Type
    let returnsVoid: Bool
    private let resultSize: Int
    private let resultAlignment: Int

    /// Targets kept at most; see the type's doc comment.
    static let cacheLimit = 4_096
    private static let cache = Mutex<[String: DistributedTarget]>([:])
    private static let uncached = Atomic<Int>(0)

    /// Targets resolved without being kept because the cache was full.
    static var uncachedResolutions: Int { uncached.load(ordering: .relaxed) }

    /// Targets in the cache.
    static var cachedCount: Int { cache.withLock { $0.count } }

    /// The resolved target of `target`, from the cache when it was resolved before.
    static func resolve(_ target: RemoteCallTarget) throws -> DistributedTarget {
        let identifier = target.identifier
        if let known = cache.withLock({ $0[identifier] }) { return known }
        let resolved = try DistributedTarget(identifier: identifier)
        let kept = cache.withLock { cache -> Bool in
            if cache[identifier] != nil { return true }
            guard cache.count < cacheLimit else { return false }
            cache[identifier] = resolved
            return true
        }
        if !kept { uncached.add(1, ordering: .relaxed) }
        return resolved
    }

    private init(identifier: String) throws {
        self.identifier = identifier
        let bytes = Array(identifier.utf8)
        let name = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        _ = name.initialize(fromContentsOf: bytes)
        let length = UInt(bytes.count)
        self.nameLength = length
        guard let base = UnsafePointer(name.baseAddress), !bytes.isEmpty else {
            name.deallocate()
            throw LocalityError(.badRequest, "empty distributed target name")
        }
        guard _getGenericEnvironmentOfDistributedTarget(base, length) == nil else {
            name.deallocate()
            throw LocalityError(.badRequest, "generic distributed methods are not supported (\(identifier))")
        }
        let count = __getParameterCount(base, length)
        guard count >= 0 else {
            name.deallocate()
            throw LocalityError(.badRequest, "no distributed method \(identifier) (parameter count error \(count))")
        }
        let types = UnsafeMutableBufferPointer<any Any.Type>.allocate(capacity: max(Int(count), 1))
        let decoded = runtimeParameterTypes(base, length, nil, nil, UnsafeMutableRawPointer(types.baseAddress!), Int(count))
        guard decoded == count, let returnType = __getReturnTypeInfo(base, length, nil, nil) else {
            name.deallocate()
            types.deallocate()
            throw LocalityError(.badRequest, "cannot read the signature of distributed method \(identifier)")
        }
        self.name = name
        self.argumentTypes = types
        self.returnType = returnType
        self.returnsVoid = returnType == Void.self
        func layout<R>(_: R.Type) -> (Int, Int) { (MemoryLayout<R>.size, MemoryLayout<R>.alignment) }
        (resultSize, resultAlignment) = _openExistential(returnType, do: layout)
    }

    deinit {
        name.deallocate()
        argumentTypes.deallocate()
    }

    /// Runs the target on a local `actor` with arguments from `decoder`, leaving the
    /// result in `resultBuffer` (uninitialized memory laid out for `returnType`). Throws
    /// what the method throws.
    @inline(__always)
    func run<Decoder: DistributedTargetInvocationDecoder>(
        on actor: some DistributedActor, decoder: inout Decoder, resultBuffer: UnsafeMutableRawPointer
    ) async throws {
        try await runtimeExecuteTarget(
            on: actor, UnsafePointer(name.baseAddress!), nameLength,
            argumentDecoder: &decoder,
            argumentTypes: UnsafeRawPointer(argumentTypes.baseAddress!),
            resultBuffer: UnsafeRawPointer(resultBuffer),
            substitutions: nil, witnessTables: nil, numWitnessTables: 0
        )
    }

    /// Runs the target and returns its result as `Res`, which must be its return type.
    @inline(__always)
    func call<Res, Decoder: DistributedTargetInvocationDecoder>(
        on actor: some DistributedActor, decoder: inout Decoder, returning: Res.Type
    ) async throws -> Res {
        guard returnType == Res.self else {
            throw LocalityError(.internal, "\(identifier) returns \(returnType), the caller expects \(Res.self)")
        }
        let buffer = UnsafeMutablePointer<Res>.allocate(capacity: 1)
        defer { buffer.deallocate() }
        try await run(on: actor, decoder: &decoder, resultBuffer: UnsafeMutableRawPointer(buffer))
        return buffer.move()
    }

    /// Runs the target and hands the outcome to `handler` the way the standard library's
    /// `executeDistributedTarget` does: `onReturn`/`onReturnVoid`, or `onThrow` with
    /// what the method threw.
    func execute(
        on actor: some DistributedActor, decoder: inout ClusterInvocationDecoder, handler: ClusterResultHandler
    ) async throws {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(resultSize, 1), alignment: resultAlignment)
        defer { buffer.deallocate() }
        do {
            try await run(on: actor, decoder: &decoder, resultBuffer: buffer)
        } catch {
            try await handler.onThrow(error: error)
            return
        }
        if returnsVoid {
            try await handler.onReturnVoid()
            return
        }
        guard let codable = returnType as? any Codable.Type else {
            func drop<R>(_: R.Type) { buffer.assumingMemoryBound(to: R.self).deinitialize(count: 1) }
            _openExistential(returnType, do: drop)
            throw LocalityError(.internal, "\(identifier) returns \(returnType), which is not Codable")
        }
        try await Self.handOver(codable, from: buffer, to: handler)
    }

    private static func handOver<R: Codable>(_: R.Type, from buffer: UnsafeMutableRawPointer, to handler: ClusterResultHandler) async throws {
        let value = buffer.assumingMemoryBound(to: R.self).move()
        try await handler.onReturn(value: value)
    }
}

/// The runtime entry that finds a distributed method's accessor by mangled name and runs
/// it; the same declaration the standard library's `executeDistributedTarget` uses.
@_silgen_name("swift_distributed_execute_target")
private func runtimeExecuteTarget<D: DistributedTargetInvocationDecoder>(
    on actor: AnyObject,
    _ targetName: UnsafePointer<UInt8>, _ targetNameLength: UInt,
    argumentDecoder: inout D,
    argumentTypes: UnsafeRawPointer,
    resultBuffer: UnsafeRawPointer,
    substitutions: UnsafeRawPointer?,
    witnessTables: UnsafeRawPointer?,
    numWitnessTables: UInt
) async throws

/// Writes the parameter types of a mangled method name into `types`; returns how many.
@_silgen_name("swift_func_getParameterTypeInfo")
private func runtimeParameterTypes(
    _ typeNameStart: UnsafePointer<UInt8>, _ typeNameLength: UInt,
    _ genericEnv: UnsafeRawPointer?, _ genericArguments: UnsafeRawPointer?,
    _ types: UnsafeMutableRawPointer, _ typesLength: Int
) -> Int32
