import Foundation
import LocalityCore
import LocalityMembership
import NIOCore
import NIOPosix

/// `locality node` child processes for a test: started with their output in files, and
/// every one killed (SIGKILL) by `killAll()`, which the tests call on every path.
final class NodeProcesses {
    let binary: String
    let directory: URL
    private(set) var processes: [String: Process] = [:]
    /// Processes replaced by a restart under the same name.
    private var earlier: [Process] = []

    /// The `locality` binary: `LOCALITY_BIN`, else `<package root>/.build/debug/locality`.
    static func binaryPath(filePath: String = #filePath) -> String {
        if let path = ProcessInfo.processInfo.environment["LOCALITY_BIN"], !path.isEmpty { return path }
        let root = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/locality").path
    }

    init() throws {
        binary = Self.binaryPath()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("locality-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// Writes a fresh random key file and returns its path.
    func writeKeyFile(_ name: String) throws -> String {
        var random = SystemRandomNumberGenerator()
        let hex = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined()
        let url = directory.appendingPathComponent(name)
        try (hex + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// Starts `locality node`; with `restart`, a second process under a name already used
    /// (the first one's handle is kept for `killAll`).
    func start(name: String, port: Int, seeds: [Int], keyFile: String, extraArguments: [String] = [], restart: Bool = false) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "node", "--name", name, "--bind", "127.0.0.1:\(port)",
            "--seeds", seeds.map { "127.0.0.1:\($0)" }.joined(separator: ","),
            "--cluster-key-file", keyFile,
        ] + extraArguments
        let logName = restart ? "\(name)-restart" : name
        let log = directory.appendingPathComponent("\(logName).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        if restart, let previous = processes[name] { earlier.append(previous) }
        processes[name] = process
    }

    /// Runs `locality <arguments>` to completion (at most `seconds`, then SIGKILL) and
    /// returns its exit status and standard output.
    func runCommand(_ arguments: [String], seconds: Double = 10) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let output = directory.appendingPathComponent("command-\(UUID().uuidString).out")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        for _ in 0..<Int(seconds * 20) where process.isRunning {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }

    func signal(_ name: String, _ signal: Int32) {
        guard let process = processes[name], process.isRunning else { return }
        kill(process.processIdentifier, signal)
    }

    /// Waits at most `seconds` for `name` to exit; returns its exit status, nil if still running.
    func waitForExit(_ name: String, seconds: Double) async -> Int32? {
        guard let process = processes[name] else { return nil }
        for _ in 0..<Int(seconds * 20) where process.isRunning {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.isRunning ? nil : process.terminationStatus
    }

    func log(_ name: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent("\(name).log"), encoding: .utf8)) ?? ""
    }

    /// SIGKILLs every child still running and waits (bounded) for each to be reaped.
    func killAll() {
        let all = Array(processes.values) + earlier
        for process in all where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for process in all {
            for _ in 0..<100 where process.isRunning { usleep(20_000) }
        }
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
