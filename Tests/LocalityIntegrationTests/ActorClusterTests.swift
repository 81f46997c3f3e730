import Foundation
import LocalityActors
import LocalityCore
import LocalityStorage
import Logging
import Testing

/// Three real `locality node` processes hosting `Counter` actors, driven over their HTTP
/// gateways: exact totals in memory and in storage, one activation per actor, and no
/// acknowledged increment lost when a node is SIGKILLed mid-run.
@Suite("Actor cluster of locality node processes", .serialized)
struct ActorClusterTests {
    static let postgresVariable = "LOCALITY_POSTGRES_URL"

    /// A `postgres://` location with a fresh table, or a failure saying how to get a server.
    static func freshPostgres(_ label: String) throws -> String {
        guard let url = ProcessInfo.processInfo.environment[postgresVariable], !url.isEmpty else {
            throw LocalityError(
                .unavailable,
                "\(postgresVariable) is not set: this test needs a real PostgreSQL server. Run ./scripts/test, or `eval \"$(scripts/services start postgres)\"` before `swift test`.")
        }
        let suffix = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        return url + (url.contains("?") ? "&" : "?") + "table=it_\(label)_\(suffix)"
    }

    /// The stored total of every counter `c0`…: from each store in `locations`, with the
    /// number of stores that hold a value for it.
    static func storedTotals(actors: Int, locations: [String]) async throws -> (totals: [Int], holders: [Int]) {
        var totals = Array(repeating: 0, count: actors)
        var holders = Array(repeating: 0, count: actors)
        for text in locations {
            let store = try await StateStoreLocation(parsing: text).open(logger: Logger(label: "test.store"))
            let values = try await withThrowingTaskGroup(of: [(Int, Int?)].self) { group in
                let lanes = 16
                for lane in 0..<lanes {
                    group.addTask {
                        var found: [(Int, Int?)] = []
                        for actor in stride(from: lane, to: actors, by: lanes) {
                            let stored = try await store.read(StateKey(kind: "counter", id: "c\(actor)"))
                            found.append((actor, try stored.value.map { try BinaryDecoder().decode(Int.self, from: $0) }))
                        }
                        return found
                    }
                }
                var all: [(Int, Int?)] = []
                for try await part in group { all += part }
                return all
            }
            for (actor, value) in values {
                guard let value else { continue }
                totals[actor] += value
                holders[actor] += 1
            }
            try await store.close()
        }
        return (totals, holders)
    }

    /// Counters of the exact-totals tests: 10,000 (the acceptance figure), or
    /// `LOCALITY_IT_COUNTERS` when set (a shorter local run).
    static var exactCounters: Int {
        ProcessInfo.processInfo.environment["LOCALITY_IT_COUNTERS"].flatMap { Int($0) }.map { max(100, $0) } ?? 10_000
    }

    /// 10,000 counters × 10 increments over the gateways of 3 nodes; exact totals in memory
    /// and in every node's store; each counter active on exactly one node.
    func exactTotals(store: (String) -> String?, storeLocations: (ActorProcessCluster) -> [String], label: String) async throws {
        let actors = Self.exactCounters
        let rounds = 10
        let cluster = try await ActorProcessCluster.start(count: 3, store: store)
        defer { cluster.processes.killAll() }
        let ready = await cluster.waitForMembers(cluster.names, seconds: 60)
        try #require(ready, "the 3 nodes did not see each other:\n\(cluster.logs())")

        let ports = LivePorts(cluster.names.compactMap { cluster.httpPorts[$0] })
        let workload = CounterWorkload(actors: actors, rounds: rounds)
        let run = await workload.run(ports: ports, queue: WorkQueue(count: actors * rounds))
        print("[\(label)] \(run.requests) increments over HTTP in \(String(format: "%.1f", run.seconds)) s: \(Int(Double(run.requests) / run.seconds)) increments/s, 64 in flight; errors: \(run.tally.errors)")
        #expect(run.tally.errors.isEmpty, "errors: \(run.tally.errors)\n\(cluster.logs())")
        #expect(run.acked == actors * rounds)

        let readStart = ContinuousClock.now
        let values = await workload.read("value", ports: ports)
        print("[\(label)] \(actors) value() reads in \(String(format: "%.1f", (ContinuousClock.now - readStart) / .seconds(1))) s")
        let wrongValues = values.enumerated().filter { $0.element != rounds }
        #expect(wrongValues.isEmpty, "\(wrongValues.count) counters with a wrong value(), e.g. \(wrongValues.prefix(5).map { "c\($0.offset)=\(String(describing: $0.element))" })")

        var activeOn: [String: Int] = [:]
        var count = 0
        for name in cluster.names {
            let keys = try await cluster.activeCounters(on: name)
            count += keys.count
            for key in keys { activeOn[key, default: 0] += 1 }
            print("[\(label)] \(name): \(keys.count) counters active")
        }
        #expect(count == actors, "\(count) activations for \(actors) counters")
        #expect(activeOn.count == actors && activeOn.values.allSatisfy { $0 == 1 }, "counters active on more than one node: \(activeOn.filter { $0.value > 1 }.prefix(5))")

        await cluster.stopGracefully()
        let (totals, holders) = try await Self.storedTotals(actors: actors, locations: storeLocations(cluster))
        let wrongTotals = totals.enumerated().filter { $0.element != rounds }
        #expect(wrongTotals.isEmpty, "\(wrongTotals.count) counters with a wrong stored total, e.g. \(wrongTotals.prefix(5).map { "c\($0.offset)=\($0.element)" })")
        #expect(holders.allSatisfy { $0 == 1 }, "counters stored by \(Set(holders)) stores")
        cluster.processes.removeDirectory()
    }

    @Test("3 nodes on one host, one SQLite file: 10,000 counters × 10 increments over HTTP; exact in memory and in storage, one activation each",
          .timeLimit(.minutes(10)))
    func sqliteShared() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("locality-shared-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        try await exactTotals(store: { _ in "sqlite:\(path)" }, storeLocations: { _ in ["sqlite:\(path)"] }, label: "sqlite")
    }

    @Test("3 nodes, each on its default SQLite file (its own ground truth): they refuse to form a cluster, naming both stores",
          .timeLimit(.minutes(2)))
    func separateStoresRefuseToFormACluster() async throws {
        let cluster = try await ActorProcessCluster.start(count: 3, store: { _ in nil })
        defer { cluster.processes.killAll() }
        var exited: [String: Int32] = [:]
        let deadline = ContinuousClock.now + .seconds(30)
        while exited.count < cluster.names.count, ContinuousClock.now < deadline {
            for name in cluster.names where exited[name] == nil && !cluster.processes.isRunning(name) {
                exited[name] = await cluster.processes.waitForExit(name, seconds: 1)
            }
            if exited.count >= 2 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        // Every node joins through the others' seeds, so each one that sees another store refuses.
        #expect(exited.count >= 2, "nodes still running on separate stores: \(cluster.names.filter { exited[$0] == nil })\n\(cluster.logs())")
        for (name, status) in exited {
            #expect(status != 0, "\(name) exited 0")
            let log = cluster.processes.log(name)
            #expect(log.contains("refusing to join the cluster"), "\(name):\n\(log)")
            #expect(log.contains("--store postgres://"), "\(name):\n\(log)")
        }
        cluster.processes.removeDirectory()
    }

    @Test("2 nodes on one store but different ring algorithms: the newer refuses to join, naming both algorithms",
          .timeLimit(.minutes(2)))
    func differentRingAlgorithmsRefuseToFormACluster() async throws {
        let cluster = try await ActorProcessCluster.start(count: 2, store: { _ in "memory" }) { name in
            name == "n1" ? ["--ring", "vnodes"] : []
        }
        defer { cluster.processes.killAll() }
        var exited: [String: Int32] = [:]
        let deadline = ContinuousClock.now + .seconds(30)
        while exited.isEmpty, ContinuousClock.now < deadline {
            for name in cluster.names where !cluster.processes.isRunning(name) {
                exited[name] = await cluster.processes.waitForExit(name, seconds: 1)
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(!exited.isEmpty, "both nodes still running with different rings:\n\(cluster.logs())")
        for (name, status) in exited {
            #expect(status != 0, "\(name) exited 0")
            let log = cluster.processes.log(name)
            #expect(log.contains("refusing to join the cluster"), "\(name):\n\(log)")
            #expect(log.contains("'vnodes'") && log.contains("'buckets'") && log.contains("--ring"), "\(name):\n\(log)")
        }
        cluster.processes.removeDirectory()
    }

    @Test("3 nodes, one PostgreSQL: 10,000 counters × 10 increments over HTTP; exact in memory and in storage, one activation each",
          .timeLimit(.minutes(10)))
    func postgresShared() async throws {
        let location = try Self.freshPostgres("exact")
        try await exactTotals(store: { _ in location }, storeLocations: { _ in [location] }, label: "postgres")
    }

    @Test("SIGKILL one of 3 nodes mid-run (PostgreSQL): its counters re-activate elsewhere; no acknowledged increment lost",
          .timeLimit(.minutes(10)))
    func killOneNodeMidRun() async throws {
        // Fewer counters than the exact-totals tests (2,000 × 10): the run has to outlast
        // the failure detection and re-activation, not to be long.
        let actors = 2_000
        let rounds = 10
        let location = try Self.freshPostgres("kill")
        let cluster = try await ActorProcessCluster.start(count: 3, store: { _ in location })
        defer { cluster.processes.killAll() }
        let ready = await cluster.waitForMembers(cluster.names, seconds: 60)
        try #require(ready, "the 3 nodes did not see each other:\n\(cluster.logs())")

        let ports = LivePorts(cluster.names.compactMap { cluster.httpPorts[$0] })
        var workload = CounterWorkload(actors: actors, rounds: rounds)
        workload.maxAttempts = 60
        let queue = WorkQueue(count: actors * rounds)
        let victim = "n3"
        let killer = Task {
            // Kill once a third of the increments were handed out.
            while queue.taken < actors * rounds / 3 { try? await Task.sleep(for: .milliseconds(10)) }
            if let port = cluster.httpPorts[victim] { ports.remove(port) }
            cluster.processes.signal(victim, SIGKILL)
            return queue.taken
        }
        let run = await workload.run(ports: ports, queue: queue)
        let killedAt = await killer.value
        let attempted = run.tally.attempted
        let acked = run.tally.acked
        print("[kill] \(victim) SIGKILLed after \(killedAt) of \(actors * rounds) increments were handed out; run took \(String(format: "%.1f", run.seconds)) s; errors (retried): \(run.tally.errors)")
        #expect(!cluster.processes.isRunning(victim))
        #expect(run.acked == actors * rounds, "\(actors * rounds - run.acked) increments never acknowledged after \(workload.maxAttempts) attempts; errors: \(run.tally.errors)")

        // The survivors hold every counter that was called after the kill, n3's included.
        let survivors = cluster.names.filter { $0 != victim }
        var activeOn: [String: Int] = [:]
        for name in survivors {
            for key in try await cluster.activeCounters(on: name) { activeOn[key, default: 0] += 1 }
        }
        #expect(activeOn.count == actors, "\(activeOn.count) of \(actors) counters active on the survivors")
        #expect(activeOn.values.allSatisfy { $0 == 1 }, "counters active on both survivors: \(activeOn.filter { $0.value > 1 }.prefix(5))")
        let values = await workload.read("value", ports: ports)

        await cluster.stopGracefully(only: survivors)
        let (stored, _) = try await Self.storedTotals(actors: actors, locations: [location])
        let lost = (0..<actors).filter { stored[$0] < acked[$0] }
        let invented = (0..<actors).filter { stored[$0] > attempted[$0] }
        let memoryMismatch = (0..<actors).filter { values[$0] != stored[$0] }
        print("[kill] acked \(acked.reduce(0, +)), attempted \(attempted.reduce(0, +)), stored \(stored.reduce(0, +)); counters with stored > acked: \((0..<actors).filter { stored[$0] > acked[$0] }.count)")
        #expect(lost.isEmpty, "\(lost.count) counters lost acknowledged increments, e.g. \(lost.prefix(5).map { "c\($0): stored \(stored[$0]) < acked \(acked[$0])" })")
        #expect(invented.isEmpty, "\(invented.count) counters stored more than attempted, e.g. \(invented.prefix(5).map { "c\($0): stored \(stored[$0]) > attempted \(attempted[$0])" })")
        #expect(memoryMismatch.isEmpty, "\(memoryMismatch.count) counters whose value() differs from the store, e.g. \(memoryMismatch.prefix(5).map { "c\($0): value \(String(describing: values[$0])) stored \(stored[$0])" })")
        cluster.processes.removeDirectory()
    }
}
