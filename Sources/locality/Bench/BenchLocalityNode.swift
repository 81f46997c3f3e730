import Foundation
import LocalityBench
import LocalityClient
import LocalityCore
import LocalityLauncher
import LocalityMembership
import LocalityServer
import LocalityStorage
import Logging
import ServiceLifecycle

/// The locality systems of `bench stateful` as users run them: a one-node `LocalityNode`
/// on loopback (free ports for gossip, transport and the HTTP gateway) hosting
/// `GameSession` as kind `session`, run in a `ServiceGroup` until `stop()`.
final class BenchLocalityNode: Sendable {
    let node: LocalityNode
    /// The port of the node's HTTP gateway on 127.0.0.1.
    let gatewayPort: Int
    private let group: ServiceGroup
    private let running: Task<Void, Never>

    private init(node: LocalityNode, gatewayPort: Int, group: ServiceGroup, running: Task<Void, Never>) {
        self.node = node
        self.gatewayPort = gatewayPort
        self.group = group
        self.running = running
    }

    /// How long `start` waits for the gateway's `/readyz`.
    static let readyTimeout: Duration = .seconds(60)

    /// Starts a node on `store` with its files in `directory`, and returns once its gateway
    /// answers `/readyz` (it has joined its one-node cluster). The cluster key is
    /// `LOCALITY_CLUSTER_KEY` (hex or base64) when set, else random.
    static func start(store: StateStoreLocation, directory: String, logger: Logger) async throws -> BenchLocalityNode {
        let ports = try await LoopbackPorts.free(3)
        guard ports.count == 3 else { throw LocalityError(.unavailable, "could not find 3 free loopback ports") }
        var configuration = NodeConfiguration(
            name: "bench", bind: NodeAddress(host: "127.0.0.1", port: ports[0]), keyring: try keyring())
        configuration.transport = NodeAddress(host: "127.0.0.1", port: ports[1])
        configuration.http = NodeAddress(host: "127.0.0.1", port: ports[2])
        configuration.store = store
        configuration.dataDirectory = directory
        configuration.logLevel = logger.logLevel
        let kind = ActorKind(name: GameSession.kind) { system in try GameSession.register(on: system) }
        let node = try await LocalityNode.start(configuration, kinds: [kind], logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: node)], logger: logger))
        let running = Task {
            do {
                try await group.run()
            } catch {
                logger.error("bench node stopped with an error", metadata: ["error": "\(error)"])
            }
        }
        let started = BenchLocalityNode(node: node, gatewayPort: ports[2], group: group, running: running)
        do {
            try await started.waitUntilReady()
        } catch {
            await started.stop()
            throw error
        }
        return started
    }

    /// Graceful shutdown (the gateway stops, the actors deactivate, the node leaves, the
    /// store closes); cancels the node after 10 s if it has not stopped by then.
    func stop() async {
        await group.triggerGracefulShutdown()
        let running = self.running
        let watchdog = Task {
            try await Task.sleep(for: .seconds(10))
            running.cancel()
        }
        await running.value
        watchdog.cancel()
    }

    /// Polls `GET /readyz` on the gateway every 50 ms until it answers 200.
    private func waitUntilReady() async throws {
        let deadline = ContinuousClock.now + Self.readyTimeout
        while ContinuousClock.now < deadline {
            if let connection = try? await HTTPClientConnection.connect(host: "127.0.0.1", port: gatewayPort) {
                let reply = try? await connection.send(.GET, "/readyz", timeout: .seconds(2))
                await connection.close()
                if reply?.status == 200 { return }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw LocalityError(.unavailable, "the bench node's gateway on 127.0.0.1:\(gatewayPort) was not ready within \(Self.readyTimeout)")
    }

    private static func keyring() throws -> ClusterKeyring {
        if let text = ProcessInfo.processInfo.environment["LOCALITY_CLUSTER_KEY"], !text.isEmpty {
            return try ClusterKeyring(primaryBytes: ClusterKeyring.decodeKeyText(text))
        }
        var random = SystemRandomNumberGenerator()
        return try ClusterKeyring(primaryBytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) })
    }
}
