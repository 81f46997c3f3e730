import Foundation
import LocalityCore
import Testing
@testable import LocalityStorage

@Suite("SQLite group commit")
struct SQLiteGroupCommitTests {
    static func key(_ index: Int) -> StateKey { StateKey(kind: "counter", id: "c-\(index)") }
    static func value(_ index: Int) -> [UInt8] { Array("value-\(index)".utf8) }

    /// Writes `count` keys concurrently; returns the etags acknowledged (nil for a refusal).
    static func writeConcurrently(_ store: SQLiteStateStore, count: Int) async -> [Int: ETag?] {
        await withTaskGroup(of: (Int, ETag?).self) { group in
            for index in 0..<count {
                group.addTask { (index, try? await store.write(key(index), value: value(index), ifMatch: .absent)) }
            }
            return await group.reduce(into: [Int: ETag?]()) { $0[$1.0] = $1.1 }
        }
    }

    @Test("concurrent writes share transactions, each is acknowledged and read back after reopening")
    func groupCommitPersistsEveryWrite() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("state.sqlite")
        let store = try await SQLiteStateStore.open(path: path)
        let acknowledged = await Self.writeConcurrently(store, count: 500)
        #expect(acknowledged.count == 500)
        #expect(acknowledged.values.allSatisfy { $0 == ETag(1) })
        let stats = await store.stats
        #expect(stats.committedWrites == 500)
        #expect(stats.transactions < 500, "writes were not batched: \(stats)")
        #expect(stats.largestBatch > 1)
        #expect(FileManager.default.fileExists(atPath: path + "-wal"), "store is not in WAL mode")
        try await store.close()

        let reopened = try await SQLiteStateStore.open(path: path)
        for index in 0..<500 {
            let read = try await reopened.read(Self.key(index))
            #expect(read == VersionedValue(value: Self.value(index), etag: ETag(1)))
        }
        try await reopened.close()
    }

    @Test("a batch never exceeds maxBatchSize")
    func batchIsBounded() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var settings = SQLiteStoreSettings()
        settings.maxBatchSize = 8
        let store = try await SQLiteStateStore.open(path: directory.file("state.sqlite"), settings: settings)
        let acknowledged = await Self.writeConcurrently(store, count: 100)
        #expect(acknowledged.values.allSatisfy { $0 == ETag(1) })
        let stats = await store.stats
        #expect(stats.largestBatch <= 8)
        #expect(stats.transactions >= 13)
        #expect(stats.committedWrites == 100)
        try await store.close()
    }

    @Test("past maxPendingWrites a write is refused at once; every accepted write commits")
    func pendingBound() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var settings = SQLiteStoreSettings()
        settings.maxPendingWrites = 4
        let path = directory.file("state.sqlite")
        let store = try await SQLiteStateStore.open(path: path, settings: settings)
        let outcomes = await Self.writeConcurrently(store, count: 200)
        let accepted = outcomes.filter { $0.value != nil }.map(\.key)
        let stats = await store.stats
        #expect(stats.rejectedOverload + accepted.count == 200)
        #expect(stats.rejectedOverload > 0, "200 concurrent writes never exceeded 4 pending")
        #expect(stats.committedWrites == accepted.count)
        try await store.close()
        let reopened = try await SQLiteStateStore.open(path: path)
        for index in accepted {
            #expect(try await reopened.read(Self.key(index)).value == Self.value(index))
        }
        try await reopened.close()
    }

    /// A crash image: the database and its WAL copied while the store is still open, with
    /// no checkpoint and no close. Every acknowledged write must be in it.
    @Test("acknowledged writes survive a crash (files copied while open, no checkpoint)")
    func acknowledgedWritesSurviveCrash() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("state.sqlite")
        let store = try await SQLiteStateStore.open(path: path)
        var etags: [Int: ETag] = [:]
        let outcomes = await Self.writeConcurrently(store, count: 300)
        for index in 0..<300 {
            guard case .some(.some(let etag)) = outcomes[index] else {
                Issue.record("write \(index) was not acknowledged")
                return
            }
            etags[index] = etag
        }
        // Overwrite a third of them once more so the image holds second versions too.
        for index in stride(from: 0, to: 300, by: 3) {
            etags[index] = try await store.write(Self.key(index), value: Self.value(index + 1000), ifMatch: etags[index]!)
        }

        let image = directory.file("crash.sqlite")
        try FileManager.default.copyItem(atPath: path, toPath: image)
        try FileManager.default.copyItem(atPath: path + "-wal", toPath: image + "-wal")

        let recovered = try await SQLiteStateStore.open(path: image)
        for index in 0..<300 {
            let read = try await recovered.read(Self.key(index))
            let expected = index % 3 == 0 ? Self.value(index + 1000) : Self.value(index)
            #expect(read == VersionedValue(value: expected, etag: etags[index]!))
        }
        try await recovered.close()
        try await store.close()
    }

    @Test("a closed store refuses work")
    func closedRefuses() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try await SQLiteStateStore.open(path: directory.file("state.sqlite"))
        try await store.close()
        await #expect(throws: LocalityError.self) { try await store.write(Self.key(1), value: [1], ifMatch: .absent) }
        await #expect(throws: LocalityError.self) { try await store.read(Self.key(1)) }
    }
}
