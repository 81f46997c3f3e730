import Distributed
import LocalityCore
import Synchronization

/// One registered actor kind: how to create an instance and how its methods are named
/// on the wire.
struct KindRegistration: Sendable {
    let kind: String
    let type: ObjectIdentifier
    let create: @Sendable (VirtualActorID, ClusterSystem) async throws -> any VirtualActor
    /// Stable name (`increment(by:)`) → mangled identifier; nil marks an overloaded name
    /// that cannot be told apart on the wire.
    let methodsByName: [String: String?]
    /// Mangled identifier → stable name.
    let namesByMangled: [String: String]
    /// Base name (`increment`) → the stable names that share it, sorted.
    let namesByBase: [String: [String]]
    /// The methods callable by name, under every name that picks exactly one of them (its
    /// stable name, and its base name when no other method shares it): what a call by
    /// name needs, found with one lookup.
    let callable: [String: CallableMethod]

    init<A: VirtualActor>(kind: String, type: A.Type, create: @escaping @Sendable (VirtualActorID, ClusterSystem) async throws -> A) {
        self.kind = kind
        self.type = ObjectIdentifier(type)
        self.create = { id, system in try await create(id, system) }
        let prefix = String(reflecting: type) + "."
        var byName: [String: String?] = [:]
        var byMangled: [String: String] = [:]
        for record in AccessibleFunctions.all where record.fullName.hasPrefix(prefix) {
            let name = String(record.fullName.dropFirst(prefix.count))
            // Methods of nested types share the prefix; their rest still has a dot
            // before the parameter list.
            guard !name.prefix(while: { $0 != "(" }).contains(".") else { continue }
            byMangled[record.mangled] = name
            if byName[name] != nil {
                byName[name] = .some(nil)
            } else {
                byName[name] = record.mangled
            }
        }
        self.methodsByName = byName
        self.namesByMangled = byMangled
        self.namesByBase = Dictionary(grouping: byName.keys) { String($0.prefix(while: { $0 != "(" })) }.mapValues { $0.sorted() }
        var callable: [String: CallableMethod] = [:]
        for case (let name, .some(let mangled)) in byName {
            let method = CallableMethod(stableName: name, mangled: mangled, labels: JSONArguments.labels(ofStableName: name))
            callable[name] = method
            if let base = namesByBase.first(where: { $0.value == [name] })?.key { callable[base] = method }
        }
        self.callable = callable
    }

    /// The stable wire name of `target`.
    func stableName(of target: RemoteCallTarget) throws -> String {
        guard let name = namesByMangled[target.identifier] else {
            throw LocalityError(.badRequest, "method \(target) of kind \(kind) has no stable name")
        }
        guard case .some(.some) = methodsByName[name] else {
            throw LocalityError(.badRequest, "method name \(name) of kind \(kind) is overloaded; remote calls cannot tell the overloads apart")
        }
        return name
    }

    /// The full stable name a caller means by `name`: `name` itself when it carries its
    /// argument labels (`recordMatch(points:won:)`), else the one method whose base name
    /// it is (`recordMatch`). Unknown → `actor_not_found`; a base name shared by several
    /// methods, or an overloaded full name → `bad_request` listing the candidates.
    func resolveMethod(_ name: String) throws(LocalityError) -> String {
        if let method = callable[name] { return method.stableName }
        let candidates: [String]
        if name.contains("(") {
            candidates = methodsByName[name] == nil ? [] : [name]
        } else {
            candidates = namesByBase[name] ?? []
        }
        guard let only = candidates.first else {
            let known = methodsByName.keys.sorted().joined(separator: ", ")
            throw LocalityError(.actorNotFound, "kind \(kind) has no method \(name) (its methods: \(known.isEmpty ? "none" : known))")
        }
        guard candidates.count == 1 else {
            throw LocalityError(.badRequest, "method name \(name) of kind \(kind) is ambiguous; name one of: \(candidates.joined(separator: ", "))")
        }
        guard case .some(.some) = methodsByName[only] else {
            throw LocalityError(.badRequest, "method name \(only) of kind \(kind) is overloaded; calls by name cannot tell the overloads apart")
        }
        return only
    }

    /// The target for a stable name received from the wire.
    func target(named name: String) throws -> RemoteCallTarget {
        switch methodsByName[name] {
        case .some(.some(let mangled)): return RemoteCallTarget(mangled)
        case .some(.none): throw LocalityError(.badRequest, "method name \(name) of kind \(kind) is overloaded")
        case .none: throw LocalityError(.badRequest, "kind \(kind) has no distributed method \(name)")
        }
    }
}

/// A method callable by name: its stable name, its target and its argument labels.
struct CallableMethod: Sendable {
    let stableName: String
    /// Its mangled identifier (`RemoteCallTarget` is not `Sendable`: see `target`).
    let mangled: String
    /// The labels of its parameters (`_` for an unlabelled one), as JSON arguments name them.
    let labels: [String]

    /// The distributed target to run.
    var target: RemoteCallTarget { RemoteCallTarget(mangled) }
}

/// The kinds registered with one `ClusterSystem`.
final class KindRegistry: Sendable {
    private struct State {
        var byKind: [String: KindRegistration] = [:]
        var kindByType: [ObjectIdentifier: String] = [:]
    }

    private let state = Mutex(State())

    func add(_ registration: KindRegistration) throws {
        try state.withLock { state in
            if let existing = state.byKind[registration.kind] {
                throw LocalityError(
                    .badRequest,
                    existing.type == registration.type
                        ? "kind \(registration.kind) is registered twice"
                        : "kind \(registration.kind) is already registered for another type")
            }
            if let kind = state.kindByType[registration.type], kind != registration.kind {
                throw LocalityError(.badRequest, "type is already registered as kind \(kind)")
            }
            state.byKind[registration.kind] = registration
            state.kindByType[registration.type] = registration.kind
        }
    }

    func registration(_ kind: String) -> KindRegistration? {
        state.withLock { $0.byKind[kind] }
    }

    func kind(of type: ObjectIdentifier) -> String? {
        state.withLock { $0.kindByType[type] }
    }
}
