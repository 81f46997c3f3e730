import ArgumentParser
import Foundation
import LocalityBench
import LocalityStorage
import Logging
import NIOCore
import NIOPosix

/// `locality bench-server` (hidden): one system of `bench stateful` on 127.0.0.1, behind
/// the shared HTTP front. The locality systems, with `--locality-front gateway` (the
/// default), run a real `LocalityNode` whose HTTP gateway takes the load, and the shared
/// front reaches the same actors through the node. Prints `ready <port> <store>`, plus
/// ` gateway=<port>` with a node; exits when stdin closes (the node shut down first).
/// PostgreSQL and Redis come from `LOCALITY_POSTGRES_URL` / `LOCALITY_REDIS_URL`.
struct BenchStatefulServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-server",
        abstract: "Serve one system of `bench stateful` over HTTP.",
        shouldDisplay: false
    )

    @Option(help: "locality, locality-pg, postgres or redis.")
    var system: BenchSystem

    @Option(help: "Port of the shared bench front (0 picks a free one).")
    var port: Int = 0

    @Option(help: "Store of the locality system: sqlite (the embedded default), postgres, or auto (PostgreSQL when LOCALITY_POSTGRES_URL is set). locality-pg always uses PostgreSQL.")
    var localityStore: BenchServer.LocalityStore = .sqlite

    @Option(help: "Front of the locality systems: gateway (a LocalityNode and its HTTP gateway) or bench (the shared front over an in-process ClusterSystem).")
    var localityFront: BenchLocalityFront = .gateway

    func run() async throws {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let environment = ProcessInfo.processInfo.environment
        let directory = NSTemporaryDirectory() + "locality-bench-stateful-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let postgresURL = environment["LOCALITY_POSTGRES_URL"]
        if system == .locality || system == .localityPostgres, localityFront == .gateway {
            try await serveThroughNode(directory: directory, postgresURL: postgresURL)
            return
        }
        let backend = try await BenchServer.openBackend(
            system: system, directory: directory, postgresURL: postgresURL, redisURL: environment["LOCALITY_REDIS_URL"],
            localityStore: localityStore
        )
        let storeToken = backend.storeName
        try await BenchServer.serve(backend: backend, port: port, ready: { port in
            FileHandle.standardOutput.write(Data("ready \(port) \(storeToken)\n".utf8))
        }, until: {
            await StdinWatch.waitForEOF()
        })
        try await backend.close()
    }

    /// A `LocalityNode` on the store the system uses (a SQLite file in `directory`, or the
    /// PostgreSQL table `BenchServer.actorStateTable`, dropped first), its gateway the load's
    /// front, the shared front served through it; the node stops when stdin closes.
    private func serveThroughNode(directory: String, postgresURL: String?) async throws {
        // Stdout carries the ready line only: logs go to stderr, warnings and worse.
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let location: StateStoreLocation
        let storeName: String
        if BenchServer.localityUsesPostgres(system: system, localityStore: localityStore, postgresURL: postgresURL) {
            location = .postgres(try await BenchServer.freshActorStateLocation(postgresURL: postgresURL))
            storeName = "postgres"
        } else {
            location = .sqlite(path: directory + "/state.sqlite")
            storeName = "sqlite"
        }
        let bench = try await BenchLocalityNode.start(store: location, directory: directory, logger: Logger(label: "locality.bench.node"))
        let gatewayPort = bench.gatewayPort
        do {
            try await BenchServer.serve(backend: NodeSessionBackend(node: bench.node, storeName: storeName), port: port, ready: { port in
                FileHandle.standardOutput.write(Data("ready \(port) \(storeName) gateway=\(gatewayPort)\n".utf8))
            }, until: {
                await StdinWatch.waitForEOF()
            })
        } catch {
            await bench.stop()
            throw error
        }
        await bench.stop()
    }
}

extension BenchSystem: ExpressibleByArgument {}
extension BenchServer.LocalityStore: ExpressibleByArgument {}
