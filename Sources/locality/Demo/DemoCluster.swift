import Foundation
import LocalityCore
import LocalityMembership
import NIOCore
import NIOPosix

/// The demo's child `locality node` processes on loopback: started from this very
/// binary, with their logs in a temporary directory, and stopped on every path.
final class DemoCluster: @unchecked Sendable {
    // @unchecked: `processes` is written only before the scenario starts; `stopAll` may
    // run from the interrupt handler, and `Process` itself is thread-safe for kill/isRunning.
    let directory: URL
    let keyFile: String
    let keyring: ClusterKeyring
    let names: [String]
    private(set) var ports: [String: Int] = [:]
    private var processes: [String: Process] = [:]

    init(size: Int) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("locality-demo-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var random = SystemRandomNumberGenerator()
        let key = (0..<32).map { _ in String(UInt8.random(in: 0...255, using: &random), radix: 16) }
            .map { $0.count == 1 ? "0" + $0 : $0 }.joined()
        keyFile = directory.appendingPathComponent("cluster.key").path
        try (key + "\n").write(toFile: keyFile, atomically: true, encoding: .utf8)
        keyring = try ClusterKeyring(fileText: key)
        names = (1...size).map { "n\($0)" }
    }

    func address(of name: String) -> NodeAddress { NodeAddress(host: "127.0.0.1", port: ports[name] ?? 0) }

    /// Starts every node; each one seeds from the first two nodes.
    func startAll() async throws {
        let free = try await Self.freePorts(names.count)
        guard free.count == names.count else { throw LocalityError(.unavailable, "could not find \(names.count) free ports") }
        for (name, port) in zip(names, free) { ports[name] = port }
        let seeds = names.prefix(2).map { address(of: $0).description }
        for name in names {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.executablePath())
            process.arguments = [
                "node", "--name", name, "--bind", address(of: name).description,
                "--seeds", seeds.filter { $0 != address(of: name).description }.joined(separator: ","),
                "--cluster-key-file", keyFile,
            ]
            let log = directory.appendingPathComponent("\(name).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            processes[name] = process
        }
    }

    func send(_ signal: Int32, to name: String) {
        guard let process = processes[name], process.isRunning else { return }
        kill(process.processIdentifier, signal)
    }

    func isRunning(_ name: String) -> Bool { processes[name]?.isRunning ?? false }

    /// `name`'s view: member name → status, or nil when it does not answer.
    func view(of name: String) async -> [String: MemberStatus]? {
        guard let reply = try? await MembersQuery.fetch(from: address(of: name), keyring: keyring, timeout: .milliseconds(500)) else {
            return nil
        }
        return Dictionary(reply.members.map { ($0.id.name, $0.status) }, uniquingKeysWith: { first, _ in first })
    }

    /// SIGTERM to every running child, then SIGKILL to any still running after 2 s.
    func stopAll() {
        let running = processes.values.filter(\.isRunning)
        for process in running { kill(process.processIdentifier, SIGTERM) }
        for _ in 0..<40 where running.contains(where: \.isRunning) { usleep(50_000) }
        for process in running where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for _ in 0..<40 where running.contains(where: \.isRunning) { usleep(50_000) }
    }

    func removeDirectory() { try? FileManager.default.removeItem(at: directory) }

    /// This process's own executable, so the demo runs the nodes of the same build.
    static func executablePath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Ports free for both UDP and TCP right now.
    static func freePorts(_ count: Int) async throws -> [Int] {
        var ports: [Int] = []
        for _ in 0..<(count * 10) where ports.count < count {
            let tcp = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
            let port = tcp.localAddress?.port
            let udp = try? await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: port ?? 0).get()
            try await tcp.close()
            try await udp?.close()
            if udp != nil, let port, !ports.contains(port) { ports.append(port) }
        }
        return ports
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
