import LocalityCore
import NIOCore
import NIOPosix
import Synchronization
import Testing
@testable import LocalityTransport

@Suite("Transport over loopback", .timeLimit(.minutes(1)))
struct TransportLoopbackTests {
    /// The error code in the first frame, when it is an error frame.
    private static func errorCode(_ frames: inout [Frame]) -> LocalityError.Code? {
        guard !frames.isEmpty, frames[0].kind == .error else { return nil }
        return LocalityErrorPayload.read(from: &frames[0].payload)?.localityError.code
    }

    @Test func callsGetTheirOwnRepliesOverOneConnection() async throws {
        let (server, address) = try await Loopback.transport("server", handler: EchoHandler())
        let (client, _) = try await Loopback.transport("client", handler: EchoHandler())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    let reply = try await client.call(address, payload: ByteBuffer(string: "message \(index)"), deadline: Loopback.deadline(.seconds(5)))
                    #expect(String(buffer: reply) == "message \(index)")
                }
            }
            try await group.waitForAll()
        }
        #expect(try await client.peerIdentity(address, deadline: Loopback.deadline(.seconds(10))).name == "server")
        try await client.ping(address, deadline: Loopback.deadline(.seconds(10)))
        await client.shutdown()
        await server.shutdown()
    }

    @Test func aCallPastItsDeadlineFailsWithDeadlineExceededAndTheServerCancels() async throws {
        let sleeper = SleepHandler()
        let (server, address) = try await Loopback.transport("server", handler: sleeper)
        let (client, _) = try await Loopback.transport("client", handler: EchoHandler())
        let started = ContinuousClock.now
        await #expect(throws: LocalityError.self) {
            _ = try await client.call(address, payload: SleepHandler.payload(milliseconds: 5_000), deadline: Loopback.deadline(.milliseconds(100)))
        }
        // Well before the handler's 5 s: the deadline, not the reply, ended the call.
        #expect(ContinuousClock.now - started < .seconds(4))
        #expect(client.counters.errors[.deadlineExceeded] == 1)
        try await eventually { sleeper.cancellations.withLock { $0 } == 1 }
        await client.shutdown()
        await server.shutdown()
    }

    @Test func cancellingTheCallerTaskSendsACancelFrame() async throws {
        let sleeper = SleepHandler()
        let (server, address) = try await Loopback.transport("server", handler: sleeper)
        let (client, _) = try await Loopback.transport("client", handler: EchoHandler())
        let task = Task {
            try await client.call(address, payload: SleepHandler.payload(milliseconds: 5_000), deadline: Loopback.deadline(.seconds(10)))
        }
        try await eventually { sleeper.running.withLock { $0.now } == 1 }
        task.cancel()
        let result = await task.result
        #expect(throws: LocalityError(.cancelled, "call cancelled")) { try result.get() }
        try await eventually { sleeper.cancellations.withLock { $0 } == 1 }
        await client.shutdown()
        await server.shutdown()
    }

    @Test func aPeerWithoutTheKeyIsRefusedAtTheHandshakeAndCounted() async throws {
        let (server, address) = try await Loopback.transport("server", handler: EchoHandler())
        let (intruder, _) = try await Loopback.transport("intruder", key: Array("guess".utf8), handler: EchoHandler())
        do {
            _ = try await intruder.call(address, payload: ByteBuffer(string: "hi"), deadline: Loopback.deadline(.seconds(2)))
            Issue.record("a peer without the key got an answer")
        } catch let error as LocalityError {
            #expect(error.code == .unauthenticated)
        }
        try await eventually { server.counters.handshakesRefused == 1 }
        await intruder.shutdown()
        await server.shutdown()
    }

    @Test func aCallFrameBeforeTheHandshakeIsRefused() async throws {
        let (server, address) = try await Loopback.transport("server", handler: EchoHandler())
        var bytes = ByteBuffer()
        Frame(kind: .call, requestID: 1, payload: ByteBuffer(bytes: [0])).write(to: &bytes)
        let (received, closed) = try await RawPeer.exchange(bytes, with: address)
        #expect(closed)
        var frames = RawPeer.frames(in: received)
        #expect(frames.count == 1)
        #expect(frames.first?.kind == .error)
        #expect(Self.errorCode(&frames) == .unauthenticated)
        #expect(server.counters.handshakesRefused == 1)
        await server.shutdown()
    }

    @Test func anOversizedFrameGetsAnErrorFrameThenTheConnectionCloses() async throws {
        var settings = TransportSettings()
        settings.maxFrameSize = 1024
        let (server, address) = try await Loopback.transport("server", settings: settings, handler: EchoHandler())
        var bytes = ByteBuffer()
        bytes.writeInteger(UInt32(64 * 1024 * 1024))
        bytes.writeInteger(FrameKind.handshake.rawValue)
        bytes.writeInteger(UInt64(0))
        let (received, closed) = try await RawPeer.exchange(bytes, with: address)
        #expect(closed)
        var frames = RawPeer.frames(in: received)
        #expect(frames.map(\.kind) == [.error])
        #expect(Self.errorCode(&frames) == .payloadTooLarge)
        #expect(server.counters.framesRejected == 1)
        // The node still serves well-behaved peers.
        let (client, _) = try await Loopback.transport("client", handler: EchoHandler())
        let reply = try await client.call(address, payload: ByteBuffer(string: "still here"), deadline: Loopback.deadline(.seconds(2)))
        #expect(String(buffer: reply) == "still here")
        await client.shutdown()
        await server.shutdown()
    }

    @Test func aMalformedFrameGetsAnErrorFrameThenTheConnectionCloses() async throws {
        let (server, address) = try await Loopback.transport("server", handler: EchoHandler())
        let bytes = ByteBuffer(bytes: [0, 0, 0, 2, 0xFF, 0xFF])
        let (received, closed) = try await RawPeer.exchange(bytes, with: address)
        #expect(closed)
        var frames = RawPeer.frames(in: received)
        #expect(frames.map(\.kind) == [.error])
        #expect(Self.errorCode(&frames) == .badRequest)
        #expect(server.counters.framesRejected == 1)
        await server.shutdown()
    }

    @Test func aPeerThatNeverReadsCannotMakeTheSenderBufferPastItsBound() async throws {
        let (peer, address) = try await NeverReadingPeer.start()
        var settings = TransportSettings()
        settings.maxQueuedBytesPerPeer = 1024 * 1024
        settings.maxInFlightPerConnection = 100_000
        let (client, _) = try await Loopback.transport("client", settings: settings, handler: EchoHandler())
        let connection = try await client.connection(to: address, deadline: Loopback.deadline(.seconds(2)))
        var payload = ByteBuffer()
        payload.writeRepeatingByte(0x61, count: 64 * 1024)
        let outcomes = Tally()
        var sent = 0
        var callers: [Task<Void, Never>] = []
        // Keep sending past the first refusal: the kernel buffers grow (autotuning) for a
        // while, so the bound is only tested once they are full too.
        while sent < 3_000, outcomes.overloaded < 200 {
            sent += 1
            callers.append(Task {
                do {
                    _ = try await client.call(address, payload: payload, deadline: Loopback.deadline(.seconds(30)))
                } catch let error as LocalityError where error.code == .overloaded && error.message.contains("send queue") {
                    outcomes.count(overloaded: true)
                } catch {
                    outcomes.count(overloaded: false)
                }
            })
            if sent % 8 == 0 { try await Task.sleep(for: .milliseconds(1)) }
            #expect(connection.queuedBytes <= settings.maxQueuedBytesPerPeer)
        }
        #expect(outcomes.overloaded > 0)
        #expect(outcomes.other == 0)
        #expect(client.counters.maxQueuedBytes <= settings.maxQueuedBytesPerPeer)
        #expect(connection.queuedBytes <= settings.maxQueuedBytesPerPeer)
        #expect(connection.queuedBytes > settings.maxQueuedBytesPerPeer / 2)
        print("never-reading peer: \(sent) calls of 64 KiB, \(outcomes.overloaded) got overloaded; queued \(connection.queuedBytes) bytes (bound \(settings.maxQueuedBytesPerPeer))")
        for task in callers { task.cancel() }
        await client.shutdown()
        try await peer.close()
    }

    @Test func aServerWhoseHandlersAreBusyStopsReadingAndAnswersOverflowWithOverloaded() async throws {
        var serverSettings = TransportSettings()
        serverSettings.maxConcurrentHandlersPerConnection = 2
        let sleeper = SleepHandler()
        let (server, address) = try await Loopback.transport("server", settings: serverSettings, handler: sleeper)
        let (client, _) = try await Loopback.transport("client", handler: EchoHandler())
        let calls = (0..<20).map { _ in
            Task { try await client.call(address, payload: SleepHandler.payload(milliseconds: 300), deadline: Loopback.deadline(.seconds(5))) }
        }
        var served = 0
        var overloaded = 0
        for call in calls {
            switch await call.result {
            case .success: served += 1
            case .failure(let error as LocalityError) where error.code == .overloaded: overloaded += 1
            case .failure(let error): Issue.record("unexpected \(error)")
            }
        }
        #expect(served + overloaded == 20)
        #expect(served >= 2)
        #expect(sleeper.running.withLock { $0.max } <= 2)
        await client.shutdown()
        await server.shutdown()
    }

    @Test func inFlightBoundGivesOverloadedAtOnce() async throws {
        var settings = TransportSettings()
        settings.maxInFlightPerConnection = 4
        let (server, address) = try await Loopback.transport("server", handler: SleepHandler())
        let (client, _) = try await Loopback.transport("client", settings: settings, handler: EchoHandler())
        let slow = (0..<4).map { _ in
            Task { try await client.call(address, payload: SleepHandler.payload(milliseconds: 5_000), deadline: Loopback.deadline(.seconds(15))) }
        }
        let connection = try await client.connection(to: address, deadline: Loopback.deadline(.seconds(2)))
        try await eventually { connection.inFlight == 4 }
        let started = ContinuousClock.now
        await #expect(throws: LocalityError.self) {
            _ = try await client.call(address, payload: SleepHandler.payload(milliseconds: 0), deadline: Loopback.deadline(.seconds(10)))
        }
        // Refused without waiting for a slot (the slots free up only after 5 s).
        #expect(ContinuousClock.now - started < .seconds(4))
        #expect(client.counters.errors[.overloaded] == 1)
        for task in slow { _ = try await task.value }
        await client.shutdown()
        await server.shutdown()
    }

    @Test func connectionsBeyondTheBoundAreClosedAtAcceptAndCounted() async throws {
        var settings = TransportSettings()
        settings.maxConnections = 1
        let (server, address) = try await Loopback.transport("server", settings: settings, handler: EchoHandler())
        let (first, _) = try await Loopback.transport("first", handler: EchoHandler())
        let (second, _) = try await Loopback.transport("second", handler: EchoHandler())
        _ = try await first.call(address, payload: ByteBuffer(string: "a"), deadline: Loopback.deadline(.seconds(2)))
        await #expect(throws: LocalityError.self) {
            _ = try await second.call(address, payload: ByteBuffer(string: "b"), deadline: Loopback.deadline(.seconds(2)))
        }
        #expect(server.counters.connectionsRefused == 1)
        await first.shutdown()
        await second.shutdown()
        await server.shutdown()
    }

    @Test func handlerErrorsTravelWithTheirCode() async throws {
        struct Refuser: TransportHandler {
            func handle(_ request: TransportRequest) async throws -> ByteBuffer {
                throw LocalityError(.notOwner, "owner is n3")
            }
        }
        let (server, address) = try await Loopback.transport("server", handler: Refuser())
        let (client, _) = try await Loopback.transport("client", handler: EchoHandler())
        await #expect(throws: LocalityError(.notOwner, "owner is n3")) {
            _ = try await client.call(address, payload: ByteBuffer(), deadline: Loopback.deadline(.seconds(2)))
        }
        await client.shutdown()
        await server.shutdown()
    }

    @Test func traceparentTravelsInTheCallHeader() async throws {
        let sleeper = SleepHandler()
        let (server, address) = try await Loopback.transport("server", handler: sleeper)
        let (client, _) = try await Loopback.transport("client", handler: EchoHandler())
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        _ = try await client.call(address, payload: SleepHandler.payload(milliseconds: 0), deadline: Loopback.deadline(.seconds(2)), traceparent: traceparent)
        #expect(sleeper.traceparents.withLock { $0 } == [traceparent])
        await client.shutdown()
        await server.shutdown()
    }

    @Test func gracefulShutdownLetsInFlightCallsFinish() async throws {
        let sleeper = SleepHandler()
        let (server, address) = try await Loopback.transport("server", handler: sleeper)
        let (client, _) = try await Loopback.transport("client", handler: EchoHandler())
        let calls = (0..<8).map { _ in
            Task { try await client.call(address, payload: SleepHandler.payload(milliseconds: 200), deadline: Loopback.deadline(.seconds(5))) }
        }
        let connection = try await client.connection(to: address, deadline: Loopback.deadline(.seconds(2)))
        try await eventually { connection.inFlight == 8 && sleeper.running.withLock { $0.now } == 8 }
        await server.shutdown()
        for call in calls {
            #expect(String(buffer: try await call.value) == "slept 200")
        }
        await #expect(throws: LocalityError.self) {
            _ = try await client.call(address, payload: SleepHandler.payload(milliseconds: 0), deadline: Loopback.deadline(.seconds(1)))
        }
        await client.shutdown()
    }

    @Test func aLostConnectionFailsPendingCallsAndReconnectsAfterBackoff() async throws {
        let (server, address) = try await Loopback.transport("server", handler: SleepHandler())
        let (client, _) = try await Loopback.transport("client", handler: EchoHandler())
        let pending = Task { try await client.call(address, payload: SleepHandler.payload(milliseconds: 2_000), deadline: Loopback.deadline(.seconds(5))) }
        let connection = try await client.connection(to: address, deadline: Loopback.deadline(.seconds(2)))
        try await eventually { connection.inFlight == 1 }
        await client.disconnect(address)
        await #expect(throws: LocalityError.self) { _ = try await pending.value }
        let reply = try await client.call(address, payload: SleepHandler.payload(milliseconds: 0), deadline: Loopback.deadline(.seconds(2)))
        #expect(String(buffer: reply) == "slept 0")
        await client.shutdown()
        await server.shutdown()
    }
}

/// Polls `condition` every 5 ms for up to 5 s.
func eventually(_ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    for _ in 0..<1_000 {
        if condition() { return }
        try await Task.sleep(for: .milliseconds(5))
    }
    Issue.record("condition not met within 5 s", sourceLocation: sourceLocation)
}

/// Outcomes of concurrent calls, shared by the tasks that make them.
final class Tally: Sendable {
    private let counts = Mutex((overloaded: 0, other: 0))

    var overloaded: Int { counts.withLock { $0.overloaded } }
    var other: Int { counts.withLock { $0.other } }

    func count(overloaded: Bool) {
        counts.withLock { overloaded ? ($0.overloaded += 1) : ($0.other += 1) }
    }
}
