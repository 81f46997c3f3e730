import LocalityCore
import Logging
import ServiceLifecycle
import Synchronization
@testable import LocalityGateway

/// An `ActorInvoker` whose behavior each test supplies; counts its calls.
final class FakeInvoker: ActorInvoker {
    typealias Handler = @Sendable (_ kind: String, _ key: String, _ method: String, _ arguments: [UInt8], _ timeout: Duration) async throws -> [UInt8]
    private let handler: Handler
    private let callCount = Atomic<Int>(0)
    private let lastKey = Mutex<IdempotencyKey?>(nil)

    init(_ handler: @escaping Handler) {
        self.handler = handler
    }

    var calls: Int { callCount.load(ordering: .relaxed) }
    /// The idempotency key of the last call (nil when it had none).
    var lastIdempotencyKey: IdempotencyKey? { lastKey.withLock { $0 } }

    func invoke(
        kind: String, key: String, method: String, arguments: [UInt8], timeout: Duration, idempotencyKey: IdempotencyKey?
    ) async throws -> [UInt8] {
        callCount.add(1, ordering: .relaxed)
        lastKey.withLock { $0 = idempotencyKey }
        return try await handler(kind, key, method, arguments, timeout)
    }

    /// Answers `{"kind":…,"key":…,"method":…,"arguments":<body>}`.
    static func echo() -> FakeInvoker {
        FakeInvoker { kind, key, method, arguments, _ in
            let body = arguments.isEmpty ? "null" : String(decoding: arguments, as: UTF8.self)
            return Array("{\"kind\":\"\(kind)\",\"key\":\"\(key)\",\"method\":\"\(method)\",\"arguments\":\(body)}".utf8)
        }
    }

    /// Always throws `error`.
    static func failing(_ error: any Error & Sendable) -> FakeInvoker {
        FakeInvoker { _, _, _, _, _ in throw error }
    }
}

/// A one-way latch: tasks wait until it opens. Bounded: waiters beyond its use are not expected.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

enum GatewayHarness {
    enum Failure: Error { case didNotStart }

    /// Runs a real gateway on 127.0.0.1 (port 0) for the duration of `body`.
    static func withGateway(
        _ settings: GatewaySettings = GatewaySettings(),
        context: GatewayContext,
        _ body: (GatewayServer, Int) async throws -> Void
    ) async throws {
        var settings = settings
        settings.host = "127.0.0.1"
        settings.port = 0
        var logger = Logger(label: "gateway-test")
        logger.logLevel = .critical
        let server = GatewayServer(settings: settings, context: context, logger: logger)
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(1))
        let app = server.makeApplication { port in portContinuation.yield(port) }
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port: Int? = await withTaskGroup(of: Int?.self) { waiting in
                waiting.addTask { await ports.first { _ in true } }
                waiting.addTask {
                    try? await Task.sleep(for: .seconds(30))
                    return nil
                }
                defer { waiting.cancelAll() }
                return await waiting.next() ?? nil
            }
            guard let port else {
                await group.triggerGracefulShutdown()
                throw Failure.didNotStart
            }
            do {
                try await body(server, port)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// Polls `condition` every 10 ms for up to `limit`; true once it holds.
    static func eventually(within limit: Duration = .seconds(20), _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return await condition()
    }
}
