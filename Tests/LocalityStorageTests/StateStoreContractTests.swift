import LocalityCore
import Testing
@testable import LocalityStorage

/// The version rules every backend must follow, run against each backend (PostgreSQL:
/// the server of `LOCALITY_POSTGRES_URL`, see `PostgresTestServer`).
@Suite("StateStore contract")
struct StateStoreContractTests {
    enum Backend: String, CaseIterable, CustomTestStringConvertible {
        case memory, sqlite, postgres
        var testDescription: String { rawValue }
    }

    /// Opens a backend; the returned closure closes it and removes its files.
    static func open(_ backend: Backend) async throws -> (any StateStore, @Sendable () async -> Void) {
        switch backend {
        case .memory:
            return (MemoryStateStore(), {})
        case .sqlite:
            let directory = try TemporaryDirectory()
            let store = try await SQLiteStateStore.open(path: directory.file("state.sqlite"))
            return (store, {
                try? await store.close()
                directory.remove()
            })
        case .postgres:
            let (store, _, cleanup) = try await PostgresTestServer.openFresh("contract")
            return (store, cleanup)
        }
    }

    @Test("etag rules: create, update, stale write, delete, tombstone", arguments: Backend.allCases)
    func etagRules(backend: Backend) async throws {
        let (store, cleanup) = try await Self.open(backend)
        let key = StateKey(kind: "player", id: "p-1")

        #expect(try await store.read(key) == VersionedValue(value: nil, etag: .absent))
        let first = try await store.write(key, value: [1, 2, 3], ifMatch: .absent)
        #expect(first == ETag(1))
        await #expect(throws: LocalityError.self) { try await store.write(key, value: [9], ifMatch: .absent) }
        let second = try await store.write(key, value: [4, 5], ifMatch: first)
        #expect(second == ETag(2))
        await #expect(throws: LocalityError.self) { try await store.write(key, value: [9], ifMatch: first) }
        #expect(try await store.read(key) == VersionedValue(value: [4, 5], etag: second))

        await #expect(throws: LocalityError.self) { try await store.delete(key, ifMatch: first) }
        let deleted = try await store.delete(key, ifMatch: second)
        #expect(deleted == ETag(3))
        #expect(try await store.read(key) == VersionedValue(value: nil, etag: deleted))
        // The tombstone keeps the version: a writer from before the delete cannot match.
        await #expect(throws: LocalityError.self) { try await store.write(key, value: [9], ifMatch: .absent) }
        await #expect(throws: LocalityError.self) { try await store.write(key, value: [9], ifMatch: second) }
        #expect(try await store.write(key, value: [7], ifMatch: deleted) == ETag(4))
        // Deleting a key that never existed is a no-op.
        #expect(try await store.delete(StateKey(kind: "player", id: "never"), ifMatch: .absent) == .absent)
        // Kinds are separate namespaces.
        #expect(try await store.read(StateKey(kind: "cart", id: "p-1")).etag == .absent)
        await cleanup()
    }

    @Test("conflict carries the conflict code", arguments: Backend.allCases)
    func conflictCode(backend: Backend) async throws {
        let (store, cleanup) = try await Self.open(backend)
        let key = StateKey(kind: "k", id: "1")
        _ = try await store.write(key, value: [1], ifMatch: .absent)
        do {
            _ = try await store.write(key, value: [2], ifMatch: ETag(7))
            Issue.record("stale write was accepted")
        } catch let error as LocalityError {
            #expect(error.code == .conflict)
        }
        await cleanup()
    }

    @Test("racing creators of one key: exactly one wins", arguments: Backend.allCases)
    func racingCreators(backend: Backend) async throws {
        let (store, cleanup) = try await Self.open(backend)
        let key = StateKey(kind: "k", id: "contended")
        let results = await withTaskGroup(of: Bool.self) { group in
            for writer in 0..<20 {
                group.addTask { (try? await store.write(key, value: [UInt8(writer)], ifMatch: .absent)) != nil }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 1)
        #expect(try await store.read(key).etag == ETag(1))
        await cleanup()
    }

    @Test("memory store refuses keys past its capacity")
    func memoryCapacity() async throws {
        let store = MemoryStateStore(capacity: 2)
        _ = try await store.write(StateKey(kind: "k", id: "1"), value: [1], ifMatch: .absent)
        _ = try await store.write(StateKey(kind: "k", id: "2"), value: [1], ifMatch: .absent)
        await #expect(throws: LocalityError(.overloaded, "memory state store holds 2 keys")) {
            try await store.write(StateKey(kind: "k", id: "3"), value: [1], ifMatch: .absent)
        }
        // Updating an existing key is still allowed at capacity.
        #expect(try await store.write(StateKey(kind: "k", id: "1"), value: [2], ifMatch: ETag(1)) == ETag(2))
    }
}
