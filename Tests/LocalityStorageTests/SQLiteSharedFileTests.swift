import Foundation
import LocalityCore
import Testing
@testable import LocalityStorage

@Suite("SQLite file shared by several stores")
struct SQLiteSharedFileTests {
    @Test("two stores on one file (as two nodes on one machine) both commit concurrent writes and see each other's")
    func twoStoresShareOneFile() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("shared.sqlite")
        let first = try await SQLiteStateStore.open(path: path)
        let second = try await SQLiteStateStore.open(path: path)
        let results = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<400 {
                let store = index.isMultiple(of: 2) ? first : second
                group.addTask {
                    let key = StateKey(kind: "counter", id: "c-\(index)")
                    return (try? await store.write(key, value: Array("v\(index)".utf8), ifMatch: .absent)) == ETag(1)
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == 400)
        #expect(results.allSatisfy { $0 }, "\(results.filter { !$0 }.count) writes failed (SQLITE_BUSY without a busy timeout?)")
        for index in 0..<400 {
            let reader = index.isMultiple(of: 2) ? second : first
            let read = try await reader.read(StateKey(kind: "counter", id: "c-\(index)"))
            #expect(read == VersionedValue(value: Array("v\(index)".utf8), etag: ETag(1)))
        }
        // A stale writer through the other store still gets `conflict`.
        let key = StateKey(kind: "counter", id: "c-0")
        _ = try await second.write(key, value: [1], ifMatch: ETag(1))
        await #expect(throws: LocalityError.self) { try await first.write(key, value: [2], ifMatch: ETag(1)) }
        try await first.close()
        try await second.close()
    }

    @Test("six stores opening one new file at the same moment (nodes starting together) all open; none fails with SQLITE_BUSY")
    func storesOpenOneNewFileTogether() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for round in 0..<100 {
            let path = directory.file("together-\(round).sqlite")
            let outcomes = await withTaskGroup(of: Result<SQLiteStateStore, any Error>.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        do { return .success(try await SQLiteStateStore.open(path: path)) } catch { return .failure(error) }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let failures = outcomes.compactMap { if case .failure(let error) = $0 { "\(error)" } else { nil } }
            #expect(failures.isEmpty, "round \(round): \(failures)")
            for case .success(let store) in outcomes { try await store.close() }
        }
    }
}
