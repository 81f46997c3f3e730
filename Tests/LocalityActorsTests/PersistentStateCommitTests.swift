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
