import Distributed
import LocalityCore
import Synchronization

/// What one executed call produced.
enum CallOutcome: @unchecked Sendable {
    /// A local call's return value, handed over as is (Sendable: distributed results are).
    case value(Any)
    /// A remote call's return value in wire form.
    case encoded(BinaryValue)
    /// A JSON invocation's return value as JSON text.
    case json([UInt8])
    case void
    case error(any Error)
}

/// How a call hands its return value back: as is (local call), in the binary wire form
/// (remote call) or as JSON (JSON invocation).
enum ResultForm: Sendable {
    case value
    case binary
    case json
}

/// Where a `ClusterResultHandler` leaves the outcome; read once the target ran.
final class CallOutcomeSink: Sendable {
    let form: ResultForm
    private let outcome = Mutex<CallOutcome?>(nil)

    init(form: ResultForm) {
        self.form = form
    }

    func set(_ value: CallOutcome) {
        outcome.withLock { $0 = value }
    }

    func take() throws -> CallOutcome {
        guard let value = outcome.withLock({ $0 }) else {
            throw LocalityError(.internal, "distributed target finished without a result")
        }
        return value
    }
}

/// Receives the result of a distributed target run by `executeDistributedTarget`.
public struct ClusterResultHandler: DistributedTargetInvocationResultHandler {
    /// Results must be `Codable`.
    public typealias SerializationRequirement = any Codable

    let sink: CallOutcomeSink

    /// Keeps the value as is for a local caller, or encodes it (binary or JSON) for a remote one.
    public func onReturn<Success: Codable>(value: Success) async throws {
        do {
            switch sink.form {
            case .value: sink.set(.value(value))
            case .binary: sink.set(.encoded(try BinaryEncoder().encodeValue(value)))
            case .json: sink.set(.json(try JSONArguments.encodeResult(value)))
            }
        } catch {
            sink.set(.error(LocalityError(.internal, "cannot encode result \(Success.self): \(error)")))
        }
    }

    /// Records that the method returned nothing.
    public func onReturnVoid() async throws {
        sink.set(.void)
    }

    /// Records the error the method threw.
    public func onThrow<Err: Error>(error: Err) async throws {
        sink.set(.error(error))
    }
}
