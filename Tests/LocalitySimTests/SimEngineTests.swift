import LocalityCore
import LocalitySim
import Testing

/// A process that records what it receives and, on each tick, sends one datagram to the next node.
struct EchoProcess: SimProcess {
    var index: Int
    var count: Int
    var received: [(from: Int, at: Timestamp, payload: Int)] = []
    var next = Timestamp.zero + .milliseconds(100)
    var sent = 0

    mutating func start(now: Timestamp) -> [SimEffect<Int, String>] { [] }

    mutating func receive(_ message: Int, from: Int, reliable: Bool, now: Timestamp) -> [SimEffect<Int, String>] {
        received.append((from, now, message))
        return [.observe("got \(message)")]
    }

    mutating func deliveryFailed(_ message: Int, to: Int, now: Timestamp) -> [SimEffect<Int, String>] {
        [.observe("failed \(message)")]
    }

    mutating func deliveryFailed(_ message: Int, to: Int, reason: SimDeliveryFailure, now: Timestamp)
        -> [SimEffect<Int, String>]
    {
        [.observe("failed \(reason) \(message)")]
    }

    mutating func tick(now: Timestamp) -> [SimEffect<Int, String>] {
        next = now + .milliseconds(100)
        sent += 1
        return [.send(sent, to: (index + 1) % count, reliable: index == 2, bytes: 10)]
    }

    var nextDeadline: Timestamp { next }
}

@Suite struct SimEngineTests {
    func engine(loss: Double = 0, seed: UInt64 = 1) -> SimEngine<EchoProcess> {
        var network = SimNetwork()
        network.loss = loss
        return SimEngine(processes: (0..<3).map { EchoProcess(index: $0, count: 3) }, network: network, seed: seed)
    }

    @Test func pausedNodeReceivesQueuedMessagesInOrderWhenThePauseEnds() {
        var sim = engine()
        sim.schedule(.pause(1, .seconds(2)), at: .zero + .milliseconds(250))
        sim.run(until: .zero + .seconds(4))
        let received = sim.processes[1].received
        let duringPause = received.filter { $0.at > .zero + .milliseconds(260) && $0.at < .zero + .milliseconds(2250) }
        #expect(duringPause.isEmpty)
        let payloads = received.map(\.payload)
        #expect(payloads == Array(1...payloads.count))
        #expect(received.filter { $0.at == .zero + .milliseconds(2250) }.count >= 19)
        // Its own timers waited too: it sent about 20 fewer messages than node 0.
        #expect(sim.processes[0].sent - sim.processes[1].sent >= 18)
    }

    @Test func lossDropsDatagramsButNotStreams() {
        var sim = engine(loss: 0.5)
        sim.run(until: .zero + .seconds(20))
        let datagramsIn = sim.processes[1].received.count  // from node 0, datagrams
        let streamsIn = sim.processes[0].received.count  // from node 2, reliable
        #expect(datagramsIn > 60 && datagramsIn < 140)
        #expect(streamsIn >= 180)
    }

    @Test func partitionCutsStreamsAndReportsFailures() {
        var sim = engine()
        var failures = 0
        sim.observer = { _, _, text in if text.hasPrefix("failed") { failures += 1 } }
        sim.schedule(.partition([[0, 1], [2]]), at: .zero + .seconds(1))
        sim.schedule(.heal, at: .zero + .seconds(2))
        sim.run(until: .zero + .seconds(30))
        #expect(failures >= 9)
        let cut = sim.processes[0].received.filter { $0.at > .zero + .milliseconds(1010) && $0.at < .zero + .milliseconds(1990) }
        #expect(cut.isEmpty)
    }

    @Test func crashedNodeStopsSendingAndReceiving() {
        var sim = engine()
        sim.schedule(.crash(1), at: .zero + .seconds(1))
        sim.run(until: .zero + .seconds(3))
        #expect(sim.processes[1].received.allSatisfy { $0.at <= .zero + .seconds(1) })
        #expect(sim.processes[1].sent <= 10)
    }

    /// Failures seen by node 2 (which streams to node 0 every 100 ms): (time, text).
    func streamFailures(_ fault: SimFault, until end: Duration) -> [(Timestamp, String)] {
        var sim = engine()
        var failures: [(Timestamp, String)] = []
        sim.observer = { node, time, text in if node == 2, text.hasPrefix("failed") { failures.append((time, text)) } }
        sim.schedule(fault, at: .zero + .seconds(1))
        sim.run(until: .zero + end)
        return failures
    }

    @Test func crashedProcessRefusesStreamsWithinARoundTrip() {
        let failures = streamFailures(.crash(0), until: .seconds(3))
        #expect(failures.count >= 19)
        #expect(failures.allSatisfy { $0.1.hasPrefix("failed refused") })
        // Sent at multiples of 100 ms; refused two one-way latencies (1 to 3 ms) later.
        let lateness = failures.map { $0.0.nanoseconds % 100_000_000 }
        #expect(lateness.allSatisfy { $0 >= 1_000_000 && $0 < 3_000_000 })
    }

    @Test func crashedHostLetsStreamsTimeOutWithoutRefusal() {
        let failures = streamFailures(.hostCrash(0), until: .seconds(16))
        #expect(!failures.isEmpty)
        #expect(failures.allSatisfy { $0.1.hasPrefix("failed timedOut") })
        // TCP gives up after 200 ms × (2^6 − 1) = 12.6 s.
        #expect(failures.allSatisfy { $0.0 >= .zero + .milliseconds(13_600) })
    }

    @Test func pausedProcessNeverRefusesStreams() {
        let failures = streamFailures(.pause(0, .seconds(3)), until: .seconds(6))
        #expect(failures.isEmpty)
    }

    @Test func sameSeedReplaysExactly() {
        func trace(_ seed: UInt64) -> [Int64] {
            var sim = engine(loss: 0.3, seed: seed)
            sim.run(until: .zero + .seconds(5))
            return sim.processes.flatMap { $0.received.map(\.at.nanoseconds) }
        }
        #expect(trace(4) == trace(4))
        #expect(trace(4) != trace(5))
    }
}
