import LocalityCore
import Testing
@testable import LocalityStorage

/// Group commit of `PostgresStateStore` against the real server of `LOCALITY_POSTGRES_URL`.
@Suite("PostgreSQL group commit")
struct PostgresGroupCommitTests {
    static func key(_ index: Int) -> StateKey { StateKey(kind: "counter", id: "c-\(index)") }
    static func value(_ index: Int) -> [UInt8] { Array("value-\(index)".utf8) }

    /// Writes `count` keys concurrently (ifMatch from `etags`, absent when missing);
    /// returns what each write got: the new etag, or the error code of its refusal.
    static func writeConcurrently(
        _ store: PostgresStateStore, count: Int, etags: [Int: ETag] = [:]
    ) async -> [Int: Result<ETag, LocalityError>] {
        await withTaskGroup(of: (Int, Result<ETag, LocalityError>).self) { group in
            for index in 0..<count {
                let ifMatch = etags[index] ?? .absent
                group.addTask {
                    do {
                        return (index, .success(try await store.write(key(index), value: value(index), ifMatch: ifMatch)))
                    } catch let error as LocalityError {
                        return (index, .failure(error))
                    } catch {
                        return (index, .failure(LocalityError(.internal, "\(error)")))
                    }
                }
            }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
    }

    @Test("concurrent writers: every write acknowledged, fewer transactions than writes, all read back by a new store")
    func groupCommitPersistsEveryWrite() async throws {
        let (store, location, cleanup) = try await PostgresTestServer.openFresh("group")
        let outcomes = await Self.writeConcurrently(store, count: 500)
        #expect(outcomes.count == 500)
        #expect(outcomes.values.allSatisfy { (try? $0.get()) == ETag(1) }, "\(outcomes.values.filter { (try? $0.get()) == nil }.prefix(3))")
        let stats = await store.stats
        #expect(stats.committedWrites == 500)
        #expect(stats.transactions < 500, "writes were not batched: \(stats)")
        #expect(stats.largestBatch > 1)
        #expect(stats.pendingWrites == 0)
        try await store.close()

        let reopened = try await location.open(logger: PostgresTestServer.quietLogger)
        for index in 0..<500 {
            #expect(try await reopened.read(Self.key(index)) == VersionedValue(value: Self.value(index), etag: ETag(1)))
        }
        try await reopened.close()
        await cleanup()
    }

    @Test("stale etags among concurrent writers: only those writes get conflict, the rest commit")
    func conflictIsolatedInBatch() async throws {
        let (store, _, cleanup) = try await PostgresTestServer.openFresh("conflict")
        let created = await Self.writeConcurrently(store, count: 200)
        #expect(created.values.allSatisfy { (try? $0.get()) == ETag(1) })
        let before = await store.stats
        // Every tenth writer holds a stale version.
        var etags: [Int: ETag] = [:]
        for index in 0..<200 { etags[index] = index % 10 == 0 ? ETag(7) : ETag(1) }
        let outcomes = await Self.writeConcurrently(store, count: 200, etags: etags)
        for index in 0..<200 {
            switch (index % 10 == 0, outcomes[index]) {
            case (true, .failure(let error)?): #expect(error.code == .conflict)
            case (false, .success(let etag)?): #expect(etag == ETag(2))
            default: Issue.record("write \(index): \(String(describing: outcomes[index]))")
            }
        }
        let after = await store.stats
        #expect(after.conflicts - before.conflicts == 20)
        #expect(after.committedWrites - before.committedWrites == 180)
        #expect(after.transactions - before.transactions < 200, "writes were not batched: \(after)")
        for index in 0..<200 {
            #expect(try await store.read(Self.key(index)).etag == (index % 10 == 0 ? ETag(1) : ETag(2)))
        }
        await cleanup()
    }

    /// The statement a batch runs, on its own: one stale change among good ones, in one
    /// statement, fails alone.
    @Test("one batch statement: the stale change is refused, the others applied")
    func batchStatementRefusesOnlyStaleChange() async throws {
        let (store, location, cleanup) = try await PostgresTestServer.openFresh("statement")
        _ = try await store.write(Self.key(1), value: [1], ifMatch: .absent)
        _ = try await store.write(Self.key(2), value: [2], ifMatch: .absent)
        let changes = Self.mixedChanges
        #expect(PostgresBatchStatement.rounds(of: changes).count == 1)
        var outcomes: [ETag?] = []
        try await PostgresTestServer.withConnection(to: location) { connection in
            outcomes = try await PostgresBatchStatement.apply(
                changes, table: location.table, on: connection, logger: PostgresTestServer.quietLogger
            )
        }
        #expect(outcomes == Self.mixedOutcomes)
        #expect(try await store.read(Self.key(1)) == VersionedValue(value: [1], etag: ETag(1)))
        #expect(try await store.read(Self.key(2)) == VersionedValue(value: nil, etag: ETag(2)))
        #expect(try await store.read(Self.key(0)) == VersionedValue(value: [0], etag: ETag(1)))
        await cleanup()
    }

    /// Keys 1 and 2 exist at etag 1: a create, a stale update, a delete, a delete of
    /// nothing, an update of nothing.
    static let mixedChanges = [
        PostgresChange(key: key(0), value: [0], ifMatch: .absent),
        PostgresChange(key: key(1), value: [9], ifMatch: ETag(5)),
        PostgresChange(key: key(2), value: nil, ifMatch: ETag(1)),
        PostgresChange(key: key(3), value: nil, ifMatch: .absent),
        PostgresChange(key: key(1002), value: [3], ifMatch: ETag(1)),
    ]
    static let mixedOutcomes: [ETag?] = [ETag(1), nil, ETag(2), .absent, nil]

    @Test("the single-change path (plain INSERT/UPDATE) judges the same changes the same way")
    func singleChangePathMatchesBatch() async throws {
        let (store, location, cleanup) = try await PostgresTestServer.openFresh("single_path")
        _ = try await store.write(Self.key(1), value: [1], ifMatch: .absent)
        _ = try await store.write(Self.key(2), value: [2], ifMatch: .absent)
        var outcomes: [ETag?] = []
        try await PostgresTestServer.withConnection(to: location) { connection in
            for change in Self.mixedChanges {
                outcomes += try await PostgresBatchStatement.apply(
                    [change], table: location.table, on: connection, logger: PostgresTestServer.quietLogger
                )
            }
        }
        #expect(outcomes == Self.mixedOutcomes)
        #expect(try await store.read(Self.key(1)) == VersionedValue(value: [1], etag: ETag(1)))
        #expect(try await store.read(Self.key(2)) == VersionedValue(value: nil, etag: ETag(2)))
        await cleanup()
    }

    @Test("changes of one key in one batch apply in arrival order, in separate rounds")
    func sameKeyRounds() {
        let a = StateKey(kind: "k", id: "a")
        let b = StateKey(kind: "k", id: "b")
        let changes = [a, b, a, a, b].map { PostgresChange(key: $0, value: [1], ifMatch: .absent) }
        #expect(PostgresBatchStatement.rounds(of: changes) == [[0, 1], [2, 4], [3]])
    }

    @Test("a batch never exceeds maxBatchSize")
    func batchIsBounded() async throws {
        var settings = PostgresStoreSettings()
        settings.maxBatchSize = 8
        let (store, _, cleanup) = try await PostgresTestServer.openFresh("bounded", settings: settings)
        let outcomes = await Self.writeConcurrently(store, count: 100)
        #expect(outcomes.values.allSatisfy { (try? $0.get()) == ETag(1) })
        let stats = await store.stats
        #expect(stats.largestBatch <= 8)
        #expect(stats.transactions >= 13)
        #expect(stats.committedWrites == 100)
        await cleanup()
    }

    @Test("several batches commit at once up to maxConcurrentBatches; 1 keeps a single writer", arguments: [1, 3])
    func concurrentBatchesAreBounded(writers: Int) async throws {
        var settings = PostgresStoreSettings()
        settings.maxConcurrentBatches = writers
        settings.maxBatchSize = 16
        let (store, location, cleanup) = try await PostgresTestServer.openFresh("writers\(writers)", settings: settings)
        let outcomes = await Self.writeConcurrently(store, count: 300)
        #expect(outcomes.values.allSatisfy { (try? $0.get()) == ETag(1) })
        let stats = await store.stats
        #expect(stats.committedWrites == 300)
        #expect(stats.largestBatch <= 16)
        // 300 writers submit while the first batch is still on the wire: every writer is used.
        #expect(stats.largestConcurrentBatches == writers, "\(stats)")
        #expect(stats.pendingWrites == 0)
        try await store.close()
        let reopened = try await location.open(logger: PostgresTestServer.quietLogger)
        for index in stride(from: 0, to: 300, by: 7) {
            #expect(try await reopened.read(Self.key(index)) == VersionedValue(value: Self.value(index), etag: ETag(1)))
        }
        try await reopened.close()
        await cleanup()
    }

    @Test("past maxPendingWrites a write is refused at once with overloaded; every accepted write commits")
    func pendingBound() async throws {
        var settings = PostgresStoreSettings()
        settings.maxPendingWrites = 4
        let (store, _, cleanup) = try await PostgresTestServer.openFresh("pending", settings: settings)
        let outcomes = await Self.writeConcurrently(store, count: 200)
        let accepted = outcomes.filter { (try? $0.value.get()) != nil }.map(\.key)
        let refused = outcomes.values.compactMap { result -> LocalityError? in
            if case .failure(let error) = result { return error } else { return nil }
        }
        #expect(refused.allSatisfy { $0.code == .overloaded })
        let stats = await store.stats
        #expect(stats.rejectedOverload == refused.count)
        #expect(stats.rejectedOverload > 0, "200 concurrent writes never exceeded 4 pending")
        #expect(stats.committedWrites == accepted.count)
        for index in accepted {
            #expect(try await store.read(Self.key(index)).value == Self.value(index))
        }
        await cleanup()
    }

    @Test("without group commit every write is its own transaction")
    func groupCommitOff() async throws {
        var settings = PostgresStoreSettings()
        settings.groupCommit = false
        let (store, _, cleanup) = try await PostgresTestServer.openFresh("single", settings: settings)
        let outcomes = await Self.writeConcurrently(store, count: 50)
        #expect(outcomes.values.allSatisfy { (try? $0.get()) == ETag(1) })
        let stats = await store.stats
        #expect(stats.transactions == 50)
        #expect(stats.largestBatch == 1)
        await #expect(throws: LocalityError.self) { try await store.write(Self.key(1), value: [1], ifMatch: .absent) }
        await cleanup()
    }

    /// A duplicate activation on two nodes: both hold etag 1 of the same keys and write at
    /// once through their own stores (own pools, own batches). Per key exactly one wins.
    @Test("two stores on one table, same etags: per key exactly one writer wins")
    func twoStoresRace() async throws {
        let (first, location, cleanup) = try await PostgresTestServer.openFresh("twostores")
        let second = try await location.open(logger: PostgresTestServer.quietLogger)
        let created = await Self.writeConcurrently(first, count: 100)
        #expect(created.values.allSatisfy { (try? $0.get()) == ETag(1) })
        let etags = Dictionary(uniqueKeysWithValues: (0..<100).map { ($0, ETag(1)) })
        async let fromFirst = Self.writeConcurrently(first, count: 100, etags: etags)
        async let fromSecond = Self.writeConcurrently(second, count: 100, etags: etags)
        let (a, b) = await (fromFirst, fromSecond)
        for index in 0..<100 {
            let wins = [a[index], b[index]].filter { (try? $0?.get()) == ETag(2) }.count
            let conflicts = [a[index], b[index]].filter {
                if case .failure(let error)? = $0 { return error.code == .conflict } else { return false }
            }.count
            #expect(wins == 1 && conflicts == 1, "key \(index): \(String(describing: a[index])) / \(String(describing: b[index]))")
            #expect(try await second.read(Self.key(index)).etag == ETag(2))
        }
        try await second.close()
        await cleanup()
    }

    @Test("a closed store refuses work")
    func closedRefuses() async throws {
        let (store, _, cleanup) = try await PostgresTestServer.openFresh("closed")
        try await store.close()
        await #expect(throws: LocalityError.self) { try await store.write(Self.key(1), value: [1], ifMatch: .absent) }
        await #expect(throws: LocalityError.self) { try await store.read(Self.key(1)) }
        await cleanup()
    }

    @Test("a server that does not answer: open fails with unavailable")
    func unreachableServer() async throws {
        var location = try PostgresTestServer.freshLocation("unreachable")
        location.port = 1  // nothing listens on port 1 of the loopback
        var settings = PostgresStoreSettings()
        settings.connectTimeout = .seconds(3)
        do {
            let store = try await location.open(settings: settings, logger: PostgresTestServer.quietLogger)
            try await store.close()
            Issue.record("open succeeded against a closed port")
        } catch let error as LocalityError {
            #expect(error.code == .unavailable)
        }
    }
}
