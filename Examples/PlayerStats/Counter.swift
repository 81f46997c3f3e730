import Distributed
import LocalityActors
import LocalityCore
import LocalityStorage

/// A durable counter as a virtual actor: the smallest write-through service, used by the
/// integration tests and the README's cluster walk-through.
///
/// `increment(by:)` returns only after the store committed the new total, so an
/// acknowledged increment is never lost; if the write fails the total in memory stays
/// what the store holds. `storedValue()` reads the store, not memory, so tests can check
/// that memory and ground truth agree.
public distributed actor Counter: VirtualActor {
    public typealias ActorSystem = ClusterSystem

    /// An increment that cannot be applied.
    public enum CounterError: Error, Codable, Equatable {
        case overflow(current: Int, amount: Int)
    }

    /// The kind name under which `register(on:)` registers counters.
    public static let kind = "counter"

    private let total: PersistentState<Int>

    public init(actorSystem: ClusterSystem, id: VirtualActorID) {
        self.actorSystem = actorSystem
        self.total = PersistentState(id: id, system: actorSystem, initial: 0)
    }

    /// Registers the kind and its error type with `system`.
    public static func register(on system: ClusterSystem) throws {
        try system.register(Counter.self, kind: kind) { id, system in Counter(actorSystem: system, id: id) }
        system.allowRemoteError(CounterError.self, name: "Counter.CounterError")
    }

    public func onActivate() async throws {
        try await total.read()
    }

    /// Adds `amount`; returns the new total once the store committed it.
    public distributed func increment(by amount: Int) async throws -> Int {
        let (next, overflow) = total.value.addingReportingOverflow(amount)
        guard !overflow else { throw CounterError.overflow(current: total.value, amount: amount) }
        try await total.commit(next)
        return next
    }

    /// The total in memory.
    public distributed func value() -> Int {
        total.value
    }

    /// The total as the store holds it (a read of the store, not of memory).
    public distributed func storedValue() async throws -> Int {
        let stored = try await actorSystem.stateStore.read(total.key)
        return try stored.value.flatMap { try PersistentState<Int>.value(fromStored: $0) } ?? 0
    }
}
