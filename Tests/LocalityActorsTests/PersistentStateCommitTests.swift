import Distributed
import LocalityActors
import LocalityCore
import LocalityStorage
import Synchronization
import Testing

/// A store whose writes can be made to fail.
private final class RefusingStore: StateStore {
    let inner = MemoryStateStore()
    let refusing = Atomic<Bool>(false)

    func read(_ key: StateKey) async throws -> VersionedValue { try await inner.read(key) }

    func write(_ key: StateKey, value: [UInt8], ifMatch: ETag) async throws -> ETag {
        if refusing.load(ordering: .relaxed) { throw LocalityError(.storageUnavailable, "down") }
        return try await inner.write(key, value: value, ifMatch: ifMatch)
    }

    func delete(_ key: StateKey, ifMatch: ETag) async throws -> ETag { try await inner.delete(key, ifMatch: ifMatch) }

    func close() async throws {}
}

/// `PersistentState.commit` and `update`: memory never runs ahead of the store.
@Suite struct PersistentStateCommitTests {
    @Test func aFailedCommitLeavesMemoryAtWhatTheStoreHolds() async throws {
        let store = RefusingStore()
        let state = PersistentState(key: StateKey(kind: "k", id: "1"), store: store, initial: [Int]())
        try await state.commit([1])
        #expect(state.value == [1])
        store.refusing.store(true, ordering: .relaxed)
        await #expect(throws: LocalityError.self) { try await state.commit([1, 2]) }
        #expect(state.value == [1])
        await #expect(throws: LocalityError.self) { try await state.update { $0.append(3) } }
        #expect(state.value == [1])
        store.refusing.store(false, ordering: .relaxed)
        let count = try await state.update { value -> Int in
            value.append(4)
            return value.count
        }
        #expect(count == 2 && state.value == [1, 4])
        // The etag followed the successful commits only: a fresh reader agrees.
        let reader = PersistentState(key: StateKey(kind: "k", id: "1"), store: store, initial: [Int]())
        try await reader.read()
        #expect(reader.value == [1, 4] && reader.etag == state.etag)
    }
}

/// A store that answers a write with `outcome_unknown`, after committing it or not.
private final class UncertainStore: StateStore {
    enum Mode: UInt8 { case answer = 0, commitThenUnknown = 1, unknownWithoutCommit = 2 }
    let inner = MemoryStateStore()
    let mode = Atomic<UInt8>(Mode.answer.rawValue)

    func read(_ key: StateKey) async throws -> VersionedValue { try await inner.read(key) }

    func write(_ key: StateKey, value: [UInt8], ifMatch: ETag) async throws -> ETag {
        switch Mode(rawValue: mode.load(ordering: .relaxed)) ?? .answer {
        case .answer: return try await inner.write(key, value: value, ifMatch: ifMatch)
        case .commitThenUnknown:
            _ = try await inner.write(key, value: value, ifMatch: ifMatch)
            throw LocalityError(.outcomeUnknown, "the store stopped answering after the commit")
        case .unknownWithoutCommit:
            throw LocalityError(.outcomeUnknown, "the store stopped answering before the commit")
        }
    }

    func delete(_ key: StateKey, ifMatch: ETag) async throws -> ETag { try await inner.delete(key, ifMatch: ifMatch) }

    func close() async throws {}
}

/// A counter that commits through `update`: memory moves only once the store acknowledged.
distributed actor CommittingCounter: VirtualActor {
    typealias ActorSystem = ClusterSystem
    let state: PersistentState<Int>

    init(actorSystem: ClusterSystem, id: VirtualActorID) {
        self.actorSystem = actorSystem
        self.state = PersistentState(id: id, system: actorSystem, initial: 0)
    }

    func onActivate() async throws { try await state.read() }

    distributed func add(_ amount: Int) async throws -> Int {
        try await state.update { value in
            value += amount
            return value
        }
    }

    distributed func total() -> Int { state.value }
}

/// After a write whose outcome is unknown, memory keeps serving until the store tells:
/// a store holding another version drops the activation, so the next call serves what the
/// store holds; a store holding memory's version changes nothing.
@Suite struct UnknownWriteOutcomeTests {
    fileprivate static func makeSystem(_ store: UncertainStore) throws -> ClusterSystem {
        let system = ClusterSystem(stateStore: store)
        try system.register(CommittingCounter.self, kind: "committing") { id, system in CommittingCounter(actorSystem: system, id: id) }
        return system
    }

    @Test func aCommittedWriteAnsweredOutcomeUnknownIsServedOnceTheStoreTells() async throws {
        let store = UncertainStore()
        let system = try Self.makeSystem(store)
        let counter = try system.actor(CommittingCounter.self, id: "c")
        #expect(try await counter.add(1) == 1)
        store.mode.store(UncertainStore.Mode.commitThenUnknown.rawValue, ordering: .relaxed)
        await #expect(throws: LocalityError.self) { try await counter.add(10) }
        store.mode.store(UncertainStore.Mode.answer.rawValue, ordering: .relaxed)
        // The store holds 11 (etag 2); memory kept 1 (etag 1): the check drops the activation.
        let until = ContinuousClock.now + .seconds(10)
        while system.catalogStats.staleDiscards == 0, ContinuousClock.now < until { try await Task.sleep(for: .milliseconds(5)) }
        #expect(system.catalogStats.staleDiscards == 1)
        #expect(try await counter.total() == 11)
        #expect(try await counter.add(1) == 12)
        await system.shutdown()
    }

    @Test func anUncommittedWriteAnsweredOutcomeUnknownKeepsTheActivation() async throws {
        let store = UncertainStore()
        let system = try Self.makeSystem(store)
        let counter = try system.actor(CommittingCounter.self, id: "c")
        #expect(try await counter.add(1) == 1)
        store.mode.store(UncertainStore.Mode.unknownWithoutCommit.rawValue, ordering: .relaxed)
        await #expect(throws: LocalityError.self) { try await counter.add(10) }
        // Memory and store agree on version 1: serving goes on from memory, nothing dropped.
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await counter.total() == 1)
        store.mode.store(UncertainStore.Mode.answer.rawValue, ordering: .relaxed)
        #expect(try await counter.add(1) == 2)
        #expect(system.catalogStats.staleDiscards == 0)
        await system.shutdown()
    }
}
