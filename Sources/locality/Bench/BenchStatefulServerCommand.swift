import ArgumentParser
import Foundation
import LocalityBench
import NIOCore
import NIOPosix

/// `locality bench-server` (hidden): one system of `bench stateful` behind the shared
/// HTTP front on 127.0.0.1. Prints `ready <port> <store>`, exits when stdin closes.
/// PostgreSQL and Redis come from `LOCALITY_POSTGRES_URL` / `LOCALITY_REDIS_URL`.
struct BenchStatefulServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-server",
        abstract: "Serve one system of `bench stateful` over HTTP.",
        shouldDisplay: false
    )

    @Option(help: "locality, postgres or redis.")
    var system: BenchSystem

    @Option(help: "Port to listen on (0 picks a free one).")
    var port: Int = 0

    @Option(help: "Store of the locality system: sqlite (the embedded default), postgres, or auto (PostgreSQL when LOCALITY_POSTGRES_URL is set). locality-pg always uses PostgreSQL.")
    var localityStore: BenchServer.LocalityStore = .sqlite

    func run() async throws {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let environment = ProcessInfo.processInfo.environment
        let directory = NSTemporaryDirectory() + "locality-bench-stateful-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let backend = try await BenchServer.openBackend(
            system: system, directory: directory,
            postgresURL: environment["LOCALITY_POSTGRES_URL"], redisURL: environment["LOCALITY_REDIS_URL"],
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
}

extension BenchSystem: ExpressibleByArgument {}
extension BenchServer.LocalityStore: ExpressibleByArgument {}
