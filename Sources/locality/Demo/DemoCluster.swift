import Foundation
import LocalityCore
import LocalityLauncher
import LocalityMembership

/// The demo's nodes: `locality node` children of this very binary on loopback, each
/// seeded from the first two, with an HTTP gateway, a node transport and one SQLite file
/// shared by all (so the actors of a crashed node re-activate elsewhere from storage).
final class DemoCluster: Sendable {
    /// Ports of one node: gossip (UDP+TCP), HTTP gateway, node transport.
    struct Ports: Sendable {
        var gossip: Int
        var http: Int
        var transport: Int
    }

    let processes: NodeProcessGroup
    let keyring: ClusterKeyring
    let names: [String]
    /// The SQLite file every node keeps actor state in.
    let databasePath: String
    private let keyFile: String
    private let ports: [String: Ports]

    var directory: URL { processes.directory }

    init(size: Int) async throws {
        processes = try NodeProcessGroup(binary: NodeProcessGroup.currentExecutable(), label: "demo")
        keyFile = try processes.writeKeyFile("cluster.key")
        keyring = try ClusterKeyring(fileText: String(contentsOfFile: keyFile, encoding: .utf8))
        databasePath = processes.directory.appendingPathComponent("state.sqlite").path
        names = (1...size).map { "n\($0)" }
        let free = try await LoopbackPorts.free(size * 3)
        guard free.count == size * 3 else { throw LocalityError(.unavailable, "could not find \(size * 3) free loopback ports") }
        ports = Dictionary(uniqueKeysWithValues: names.enumerated().map { index, name in
            (name, Ports(gossip: free[index * 3], http: free[index * 3 + 1], transport: free[index * 3 + 2]))
        })
    }

    func address(of name: String) -> NodeAddress { NodeAddress(host: "127.0.0.1", port: ports[name]?.gossip ?? 0) }

    /// The port of `name`'s HTTP gateway.
    func httpPort(of name: String) -> Int { ports[name]?.http ?? 0 }

    /// The dashboard of `name`.
    func dashboardURL(of name: String) -> String { "http://127.0.0.1:\(httpPort(of: name))/" }

    func startAll() throws {
        let seeds = names.prefix(2).compactMap { ports[$0]?.gossip }
        for name in names {
            guard let port = ports[name] else { continue }
            try processes.start(
                name: name, port: port.gossip, seeds: seeds.filter { $0 != port.gossip }, keyFile: keyFile,
                extraArguments: [
                    "--http", "127.0.0.1:\(port.http)", "--transport", "127.0.0.1:\(port.transport)",
                    "--store", "sqlite:\(databasePath)",
                ])
        }
    }

    /// `name`'s view: member name → status, or nil when it does not answer.
    func view(of name: String) async -> [String: MemberStatus]? {
        guard let reply = try? await MembersQuery.fetch(from: address(of: name), keyring: keyring, timeout: .milliseconds(500)) else {
            return nil
        }
        return Dictionary(reply.members.map { ($0.id.name, $0.status) }, uniquingKeysWith: { first, _ in first })
    }
}

/// Runs `action` once on SIGINT or SIGTERM, then exits with 130.
final class InterruptHandler {
    private let sources: [any DispatchSourceSignal]

    init(_ action: @escaping @Sendable () -> Void) {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                print("\ninterrupted: stopping the nodes")
                action()
                exit(130)
            }
            source.resume()
            return source
        }
    }

    func cancel() { sources.forEach { $0.cancel() } }
}
