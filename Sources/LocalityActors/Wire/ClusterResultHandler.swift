import Distributed
import LocalityCore
import Synchronization

/// What one executed call produced.
enum CallOutcome: @unchecked Sendable {
    /// A local call's return value, handed over as is (Sendable: distributed results are).
    case value(Any)
    /// A remote call's return value in wire form.
    case encoded(BinaryValue)
    case void
    case error(any Error)
}

/// Where a `ClusterResultHandler` leaves the outcome; read once the target ran.
final class CallOutcomeSink: Sendable {
    let encodes: Bool
    private let outcome = Mutex<CallOutcome?>(nil)

    init(encodes: Bool) {
        self.encodes = encodes
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
    public typealias SerializationRequirement = any Codable

    let sink: CallOutcomeSink

    public func onReturn<Success: Codable>(value: Success) async throws {
        if sink.encodes {
            do {
                sink.set(.encoded(try BinaryEncoder().encodeValue(value)))
            } catch {
                sink.set(.error(LocalityError(.internal, "cannot encode result \(Success.self): \(error)")))
            }
        } else {
            sink.set(.value(value))
        }
    }

    public func onReturnVoid() async throws {
        sink.set(.void)
    }

    public func onThrow<Err: Error>(error: Err) async throws {
        sink.set(.error(error))
    }
}
