import Foundation
import LocalityCore
import LocalityLauncher
import LocalityMembership

/// The demo's nodes: `locality node` children of this very binary on loopback, each
/// seeded from the first two, and the demo's way of reading their views.
final class DemoCluster: Sendable {
    let processes: NodeProcessGroup
    let keyring: ClusterKeyring
    let names: [String]
    private let keyFile: String
    private let ports: [String: Int]

    var directory: URL { processes.directory }

    init(size: Int) async throws {
        processes = try NodeProcessGroup(binary: NodeProcessGroup.currentExecutable(), label: "demo")
        keyFile = try processes.writeKeyFile("cluster.key")
        keyring = try ClusterKeyring(fileText: String(contentsOfFile: keyFile, encoding: .utf8))
        names = (1...size).map { "n\($0)" }
        let free = try await LoopbackPorts.free(size)
        guard free.count == size else { throw LocalityError(.unavailable, "could not find \(size) free loopback ports") }
        ports = Dictionary(uniqueKeysWithValues: zip(names, free))
    }

    func address(of name: String) -> NodeAddress { NodeAddress(host: "127.0.0.1", port: ports[name] ?? 0) }

    func startAll() throws {
        let seeds = names.prefix(2).compactMap { ports[$0] }
        for name in names {
            guard let port = ports[name] else { continue }
            // The demo is about membership: actors in memory, transport on any free port.
            try processes.start(
                name: name, port: port, seeds: seeds.filter { $0 != port }, keyFile: keyFile,
                extraArguments: ["--store", "memory", "--transport", "127.0.0.1:0"])
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
