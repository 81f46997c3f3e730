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
}
