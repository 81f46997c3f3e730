import LocalityClient
import LocalityCore
import NIOCore
import NIOHTTP1

/// One load phase against a system's HTTP front (`api` says which: the bench front or a
/// node's gateway): `connections` workers, each with its own keep-alive connection and
/// seeded request stream (key, read or write, delta).
public struct HTTPLoadPhase: Sendable {
    /// The port the load goes to, on 127.0.0.1.
    public var port: Int
    /// How requests are shaped for that port.
    public var api: BenchAPI
    public var schedule: LoadSchedule
    public var duration: Duration
    public var connections: Int
    public var workload: WorkloadSettings
    /// Mixed into the seeds so phases draw different streams.
    public var phaseIndex: Int

    public init(
        port: Int, api: BenchAPI = .benchFront, schedule: LoadSchedule, duration: Duration, connections: Int, workload: WorkloadSettings,
        phaseIndex: Int
    ) {
        self.port = port
        self.api = api
        self.schedule = schedule
        self.duration = duration
        self.connections = connections
        self.workload = workload
        self.phaseIndex = phaseIndex
    }

    /// What a phase measured.
    public struct Outcome: Sendable {
        public var tally: WorkerTally
        public var ledger: AckLedger
        public var elapsedSeconds: Double

        public var throughput: Double { elapsedSeconds > 0 ? Double(tally.requests - tally.errors) / elapsedSeconds : 0 }
    }

    public func run(chooser: KeyChooser) async throws -> Outcome {
        let clock = MonotonicClock()
        var connectionsOpened: [HTTPClientConnection] = []
        for _ in 0..<connections {
            connectionsOpened.append(try await HTTPClientConnection.connect(host: "127.0.0.1", port: port))
        }
        let start = clock.now()
        let loop = LoadWorkerLoop(schedule: schedule, start: start, end: start + duration)
        let tickets = loop.ticketCount > 0 ? TicketDispenser(limit: loop.ticketCount) : nil
        let workload = self.workload
        let port = self.port
        let api = self.api
        let phaseIndex = self.phaseIndex
        var total = WorkerTally()
        var ledger = AckLedger(keys: workload.keys)
        try await withThrowingTaskGroup(of: (WorkerTally, AckLedger).self) { group in
            for (worker, first) in connectionsOpened.enumerated() {
                group.addTask {
                    var random = SeededRandom(seed: workload.seed &+ UInt64(phaseIndex) &* 1_000_003 &+ UInt64(worker) &* 7_919)
                    var ledger = AckLedger(keys: workload.keys)
                    var connection = first
                    let tally = await loop.run(clock: clock, tickets: tickets, sleep: { intended in
                        let wait = intended - clock.now()
                        if wait > .zero { try? await Task.sleep(for: wait) }
                    }, request: {
                        let key = chooser.next(using: &random)
                        let isWrite = random.nextUnit() < workload.writeRatio
                        let delta = WorkloadSettings.delta(using: &random)
                        if !connection.isActive, let fresh = try? await HTTPClientConnection.connect(host: "127.0.0.1", port: port) {
                            connection = fresh
                        }
                        let name = WorkloadSettings.keyName(key)
                        let request = isWrite ? api.move(key: name, delta: delta) : api.read(key: name)
                        let reply = try? await connection.send(
                            request.method == .POST ? .POST : .GET, request.path, json: request.body.map { ByteBuffer(string: $0) }
                        )
                        let succeeded = reply?.status == 200
                        if isWrite {
                            if succeeded { ledger.acknowledge(key: key, delta: delta) } else { ledger.fail(key: key, delta: delta) }
                        }
                        return succeeded
                    })
                    await connection.close()
                    return (tally, ledger)
                }
            }
            for try await (tally, workerLedger) in group {
                total.add(tally)
                ledger.add(workerLedger)
            }
        }
        let elapsed = Double((clock.now() - start).nanoseconds) / 1e9
        return Outcome(tally: total, ledger: ledger, elapsedSeconds: elapsed)
    }
}
