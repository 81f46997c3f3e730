import Distributed
import LocalityCore

/// One recorded argument: the value itself (a local call hands it over as is, no
/// serialization) and how to encode it for the wire.
///
/// `@unchecked Sendable`: the compiler already requires every parameter of a distributed
/// method to be `Sendable`; the generic `recordArgument` signature just cannot say so.
struct InvocationArgument: @unchecked Sendable {
    let value: Any
    let encode: () throws -> BinaryValue
}

/// Records the arguments of a call on a virtual actor reference.
///
/// Generic distributed methods are refused (`bad_request`): generic substitutions would
/// put type names on the wire, and on Swift 6.3 they crashed receivers in an earlier
/// experiment. Keep distributed methods non-generic.
public struct ClusterInvocationEncoder: DistributedTargetInvocationEncoder {
    /// Arguments must be `Codable`.
    public typealias SerializationRequirement = any Codable

    var arguments: [InvocationArgument] = []

    init() {}

    /// Refuses generic methods with `bad_request` (see the type's doc).
    public mutating func recordGenericSubstitution<T>(_ type: T.Type) throws {
        throw LocalityError(.badRequest, "generic distributed methods are not supported (substitution \(T.self))")
    }

    /// Keeps the argument as a value, with a closure that encodes it if the call goes remote.
    public mutating func recordArgument<Value: Codable>(_ argument: RemoteCallArgument<Value>) throws {
        let value = argument.value
        arguments.append(InvocationArgument(value: value, encode: { try BinaryEncoder().encodeValue(value) }))
    }

    /// Nothing recorded: the receiver knows the return type from the method.
    public mutating func recordReturnType<R: Codable>(_ type: R.Type) throws {}

    /// Nothing recorded: error types are not put on the wire.
    public mutating func recordErrorType<E: Error>(_ type: E.Type) throws {}

    /// Nothing to finish.
    public mutating func doneRecording() throws {}

    /// The arguments in wire form.
    func encodedArguments() throws -> [BinaryValue] {
        try arguments.map { try $0.encode() }
    }
}

/// Hands the recorded arguments to the target: as values for a local call, decoded from
/// the wire (into the parameter's static type, no type names involved) for a remote one,
/// decoded with `JSONDecoder` for a JSON invocation (`ActorInvoker`).
public struct ClusterInvocationDecoder: DistributedTargetInvocationDecoder {
    /// Arguments must be `Codable`.
    public typealias SerializationRequirement = any Codable

    enum Source {
        case local([InvocationArgument])
        case wire([BinaryValue])
        case json(JSONArguments)
    }

    let source: Source
    var index = 0

    init(_ source: Source) {
        self.source = source
    }

    /// None: generic methods are refused by the encoder.
    public mutating func decodeGenericSubstitutions() throws -> [Any.Type] { [] }

    /// The next argument, as the parameter's type; a missing or undecodable argument is `bad_request`.
    public mutating func decodeNextArgument<Argument: Codable>() throws -> Argument {
        defer { index += 1 }
        switch source {
        case .local(let arguments):
            guard index < arguments.count, let value = arguments[index].value as? Argument else {
                throw LocalityError(.badRequest, "argument \(index) is missing or not a \(Argument.self)")
            }
            return value
        case .wire(let values):
            guard index < values.count else {
                throw LocalityError(.badRequest, "call carries \(values.count) arguments, the method takes more")
            }
            return try BinaryDecoder().decodeValue(Argument.self, from: values[index])
        case .json(let arguments):
            return try arguments.decode(Argument.self, at: index)
        }
    }

    /// Nil: error types do not travel in invocations.
    public mutating func decodeErrorType() throws -> Any.Type? { nil }

    /// Nil: the receiver takes the return type from the method.
    public mutating func decodeReturnType() throws -> Any.Type? { nil }
}
