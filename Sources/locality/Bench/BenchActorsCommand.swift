import ArgumentParser
import Foundation
import Histogram
import LocalityActors
import LocalityBench
import LocalityCore
import LocalityExamples
import LocalityStorage
import NIOCore
import NIOPosix

/// `locality bench actors`: the virtual-actor runtime's costs — a local call, a cold
/// activation loading its state from SQLite, the memory of an idle activation, and
/// remote calls between two processes at a fixed concurrency (closed loop).
struct BenchActorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "actors",
        abstract: "Measure local calls, cold activations, idle memory and remote calls of virtual actors."
    )

    @Option(help: "Local calls timed (one actor, sequential, after a warm-up).")
    var localCalls: Int = 1_000_000

    @Option(help: "Cold activations timed, each loading stored state from SQLite.")
    var coldActivations: Int = 10_000

    @Option(help: "Idle activations created for the memory figure.")
    var idleActivations: Int = 1_000_000

    @Option(help: "Remote calls outstanding at once.")
    var concurrency: Int = 64

    @Option(help: "Measured seconds of remote calls (after a 1 s warm-up).")
    var duration: Double = 10

    @Option(help: "Distinct actors the remote calls spread over.")
    var remoteActors: Int = 10_000

    @Flag(help: "Print one JSON object.")
    var json = false

    @Flag(help: "Measure only the local call (for profilers such as callgrind: no child process, no timed phase).")
    var localCallOnly = false

    func validate() throws {
        guard localCalls >= 1, coldActivations >= 1, idleActivations >= 1, remoteActors >= 1 else {
            throw ValidationError("counts must be positive")
        }
        guard concurrency >= 1, concurrency <= 4096 else { throw ValidationError("--concurrency must be 1…4096") }
        guard duration > 0, duration <= 600 else { throw ValidationError("--duration must be in (0, 600] seconds") }
    }

    func run() async throws {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        var report = ActorsBenchReport()
        if localCallOnly {
            report.localCallNanoseconds = try await measureLocalCall()
            try print(json ? report.sortedKeysJSON() : report.text)
            return
        }
        // First, on a fresh heap: freed memory of the other phases would hide growth.
        report.bytesPerIdleActivation = try await measureIdleMemory()
        report.localCallNanoseconds = try await measureLocalCall()
        let cold = try await measureColdActivation()
        report.coldActivationP50Milliseconds = cold.milliseconds(at: 50)
        report.coldActivationP99Milliseconds = cold.milliseconds(at: 99)
        let remote = try await measureRemote()
        report.remoteCalls = remote.calls
        report.remoteErrors = remote.errors
        report.remoteRPS = (Double(remote.calls) / remote.elapsedSeconds).rounded()
        report.remoteP50Milliseconds = remote.milliseconds(at: 50)
        report.remoteP99Milliseconds = remote.milliseconds(at: 99)
        report.remoteP999Milliseconds = remote.milliseconds(at: 99.9)
        report.concurrency = concurrency
        report.idleActivations = idleActivations
        report.coldActivations = coldActivations
        try print(json ? report.sortedKeysJSON() : report.text)
    }

    /// Sequential calls to one already active local actor.
    private func measureLocalCall() async throws -> Double {
        let system = ClusterSystem(stateStore: MemoryStateStore())
        try PlayerStats.register(on: system)
        let player = try system.actor(PlayerStats.self, id: "local")
        for _ in 0..<10_000 { _ = try await player.winRate() }
        let start = ContinuousClock.now
        for _ in 0..<localCalls { _ = try await player.winRate() }
        let elapsed = ContinuousClock.now - start
        await system.shutdown()
        return (Double(elapsed.nanoseconds) / Double(localCalls)).rounded()
    }

    /// First calls of actors whose state is in a SQLite file (written beforehand).
    private func measureColdActivation() async throws -> LatencyHistogram {
        let directory = NSTemporaryDirectory() + "locality-bench-actors-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await SQLiteStateStore.open(path: directory + "/state.sqlite")
        var totals = PlayerStats.Totals()
        totals.matches = 12
        totals.points = 345
        totals.recent = [1, 2, 3, 4, 5]
        let bytes = try BinaryEncoder().encode(totals)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<32 {
                group.addTask {
                    var index = worker
                    while index < coldActivations {
                        _ = try await store.write(StateKey(kind: PlayerStats.kind, id: "p\(index)"), value: bytes, ifMatch: .absent)
                        index += 32
                    }
                }
            }
            try await group.waitForAll()
        }
        let system = ClusterSystem(stateStore: store)
        try PlayerStats.register(on: system)
        var histogram = LatencyHistogram()
        for index in 0..<coldActivations {
            let player = try system.actor(PlayerStats.self, id: "p\(index)")
            let before = ContinuousClock.now
            let loaded = try await player.current()
            histogram.record(ContinuousClock.now - before)
            guard loaded == totals else { throw ValidationError("p\(index) loaded \(loaded), stored \(totals)") }
        }
        await system.shutdown()
        try await store.close()
        return histogram
    }

    /// Resident memory added by `idleActivations` activations, per activation.
    private func measureIdleMemory() async throws -> Double {
        var settings = ActorSettings()
        settings.maxActivations = idleActivations + 1_001
        let system = ClusterSystem(settings: settings, stateStore: MemoryStateStore())
        try PlayerStats.register(on: system)
        // Warm the runtime so one-time allocations do not count.
        for index in 0..<1_000 { _ = try await system.actor(PlayerStats.self, id: "warm\(index)").winRate() }
        let before = ResidentMemory.bytes()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<16 {
                group.addTask {
                    var index = worker
                    while index < idleActivations {
                        _ = try await system.actor(PlayerStats.self, id: "idle-\(index)").winRate()
                        index += 16
                    }
                }
            }
            try await group.waitForAll()
        }
        let after = ResidentMemory.bytes()
        guard system.activationCount == idleActivations + 1_000 else {
            throw ValidationError("expected \(idleActivations + 1_000) activations, found \(system.activationCount)")
        }
        await system.shutdown(grace: .seconds(60))
        return (Double(after - before) / Double(idleActivations)).rounded()
    }

    /// Closed loop of `recordMatch` calls from this process to actors all owned by a
    /// child `locality actor-server` process.
    private func measureRemote() async throws -> ClosedLoop.Result {
        let key = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let server = try BenchServerChild.start(["actor-server", "--port", "0"], clusterKey: key)
        defer { server.stop() }
        guard server.fields.count == 1, let uid = UInt64(server.fields[0]) else { throw ValidationError("actor server did not say its uid") }
        let serverID = NodeID(name: "actor-server", uid: uid)
        let client = try await ActorBenchNode.start(
            id: NodeID(name: "bench-client", uid: UInt64.random(in: 1...UInt64.max)), clusterKey: key,
            store: MemoryStateStore(), port: 0, members: [serverID: NodeAddress(host: "127.0.0.1", port: server.port)]
        )
        let system = client.system
        let actors = remoteActors
        let loop: @Sendable (Double) async throws -> ClosedLoop.Result = { seconds in
            try await ClosedLoop.run(concurrency: concurrency, seconds: seconds) { worker, call in
                let player = try system.actor(PlayerStats.self, id: "r\((worker &* 7919 &+ call) % actors)")
                _ = try await player.recordMatch(points: 3, won: call % 2 == 0)
            }
        }
        _ = try await loop(1)
        let measured = try await loop(duration)
        await client.stop()
        server.stop()
        return measured
    }
}

/// What `bench actors` prints.
struct ActorsBenchReport: Encodable {
    var localCallNanoseconds = 0.0
    var coldActivationP50Milliseconds = 0.0
    var coldActivationP99Milliseconds = 0.0
    var coldActivations = 0
    var bytesPerIdleActivation = 0.0
    var idleActivations = 0
    var concurrency = 0
    var remoteCalls = 0
    var remoteErrors = 0
    var remoteRPS = 0.0
    var remoteP50Milliseconds = 0.0
    var remoteP99Milliseconds = 0.0
    var remoteP999Milliseconds = 0.0

    enum CodingKeys: String, CodingKey {
        case concurrency
        case localCallNanoseconds = "local_call_ns"
        case coldActivationP50Milliseconds = "cold_activation_p50_ms"
        case coldActivationP99Milliseconds = "cold_activation_p99_ms"
        case coldActivations = "cold_activations"
        case bytesPerIdleActivation = "bytes_per_idle_activation"
        case idleActivations = "idle_activations"
        case remoteCalls = "remote_calls"
        case remoteErrors = "remote_errors"
        case remoteRPS = "remote_rps"
        case remoteP50Milliseconds = "remote_p50_ms"
        case remoteP99Milliseconds = "remote_p99_ms"
        case remoteP999Milliseconds = "remote_p999_ms"
    }

    var text: String {
        """
        local call: \(localCallNanoseconds) ns
        cold activation (SQLite load, \(coldActivations) actors): p50 \(coldActivationP50Milliseconds) ms, p99 \(coldActivationP99Milliseconds) ms
        idle activation: \(bytesPerIdleActivation) bytes each (\(idleActivations) activations)
        remote (2 processes, \(concurrency) in flight): \(Int(remoteRPS)) calls/s, p50 \(remoteP50Milliseconds) ms, p99 \(remoteP99Milliseconds) ms, p99.9 \(remoteP999Milliseconds) ms, \(remoteErrors) errors
        """
    }
}

/// Resident set size of this process, from /proc/self/statm.
enum ResidentMemory {
    static func bytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

