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

    /// Every kind of change at once, so that most share a batch: each keeps the outcome it
    /// has alone (`StateStoreContractTests`), and of two writers racing from one version
    /// exactly one wins, with its value stored.
    @Test("one batch of mixed changes: inserts, updates and deletes each pass or fail their etag check on their own")
    func mixedBatchKeepsEachOutcome() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try await SQLiteStateStore.open(path: directory.file("state.sqlite"))
        func key(_ name: String) -> StateKey { StateKey(kind: "k", id: name) }
        let existing = ["upd-ok", "upd-stale", "ins-existing", "del-ok", "del-stale", "del-absent-existing", "race"]
        for name in existing { _ = try await store.write(key(name), value: Array(name.utf8), ifMatch: .absent) }

        enum Expect: Equatable { case etag(ETag), conflict }
        let changes: [(String, [UInt8]?, ETag, Expect)] = [
            ("ins-new", [1], .absent, .etag(ETag(1))),
            ("ins-existing", [2], .absent, .conflict),
            ("upd-ok", [3], ETag(1), .etag(ETag(2))),
            ("upd-stale", [4], ETag(7), .conflict),
            ("upd-missing", [5], ETag(3), .conflict),
            ("del-ok", nil, ETag(1), .etag(ETag(2))),
            ("del-stale", nil, ETag(4), .conflict),
            ("del-absent-missing", nil, .absent, .etag(.absent)),
            ("del-absent-existing", nil, .absent, .conflict),
        ]
        let outcomes = await withTaskGroup(of: (String, Expect).self) { group in
            for (name, value, ifMatch, _) in changes {
                group.addTask {
                    do {
                        if let value { return (name, .etag(try await store.write(key(name), value: value, ifMatch: ifMatch))) }
                        return (name, .etag(try await store.delete(key(name), ifMatch: ifMatch)))
                    } catch let error as LocalityError where error.code == .conflict {
                        return (name, .conflict)
                    } catch {
                        return (name, .etag(ETag(-1)))
                    }
                }
            }
            for racer in 0..<2 {
                group.addTask {
                    do { return ("race-\(racer)", .etag(try await store.write(key("race"), value: [UInt8(100 + racer)], ifMatch: ETag(1)))) }
                    catch { return ("race-\(racer)", .conflict) }
                }
            }
            return await group.reduce(into: [String: Expect]()) { $0[$1.0] = $1.1 }
        }
        for (name, _, _, expected) in changes { #expect(outcomes[name] == expected, "\(name)") }
        let raceWinners = (0..<2).filter { outcomes["race-\($0)"] == .etag(ETag(2)) }
        #expect(raceWinners.count == 1, "race: \(String(describing: outcomes["race-0"])) / \(String(describing: outcomes["race-1"]))")
        if let winner = raceWinners.first {
            #expect(try await store.read(key("race")) == VersionedValue(value: [UInt8(100 + winner)], etag: ETag(2)))
        }
        #expect(try await store.read(key("upd-ok")) == VersionedValue(value: [3], etag: ETag(2)))
        #expect(try await store.read(key("upd-stale")) == VersionedValue(value: Array("upd-stale".utf8), etag: ETag(1)))
        #expect(try await store.read(key("upd-missing")) == VersionedValue(value: nil, etag: .absent))
        #expect(try await store.read(key("del-ok")) == VersionedValue(value: nil, etag: ETag(2)))
        #expect(try await store.read(key("ins-new")) == VersionedValue(value: [1], etag: ETag(1)))
        #expect(try await store.read(key("ins-existing")) == VersionedValue(value: Array("ins-existing".utf8), etag: ETag(1)))
        try await store.close()
    }
}
