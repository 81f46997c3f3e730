import Foundation

/// Child `locality` processes on loopback (nodes and one-shot commands), each with its
/// output in a file of one temporary directory. Used by `locality demo` and the
/// integration tests; whoever creates a group calls `stopAll()` or `killAll()` on every
/// path, so no child outlives it.
///
/// Start and signal children from one task. `stopAll`/`killAll` may also run from a
/// signal handler (the demo's Ctrl-C): they only read the process table and send signals.
public final class NodeProcessGroup: @unchecked Sendable {
    /// The `locality` executable the children run.
    public let binary: String
    /// Where the key files and the children's logs live.
    public let directory: URL
    private var processes: [String: Process] = [:]
    /// The write ends of the nodes' standard input: held open for as long as this group
    /// lives, so a node (`--exit-on-stdin-eof`) leaves when this process dies.
    private var lifelines: [Pipe] = []
    /// Processes replaced by a restart under the same name, still owned for `killAll`.
    private var earlier: [Process] = []

    /// A group running `binary`, with a new temporary directory named after `label`.
    public init(binary: String, label: String) throws {
        self.binary = binary
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("locality-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// This process's own executable, so children run exactly the same build.
    public static func currentExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Writes a fresh random 32-byte cluster key (hex) and returns the file's path.
    public func writeKeyFile(_ name: String) throws -> String {
        var random = SystemRandomNumberGenerator()
        let hex = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined()
        let url = directory.appendingPathComponent(name)
        try (hex + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// Starts `locality node` bound to `127.0.0.1:port`; with `restart`, a second process
    /// under a name already used (the first one's handle is kept for `killAll`).
    public func start(name: String, port: Int, seeds: [Int], keyFile: String, extraArguments: [String] = [], restart: Bool = false) throws {
        let arguments = [
            "node", "--name", name, "--bind", "127.0.0.1:\(port)",
            "--seeds", seeds.map { "127.0.0.1:\($0)" }.joined(separator: ","),
            "--cluster-key-file", keyFile, "--exit-on-stdin-eof",
        ] + extraArguments
        let lifeline = Pipe()
        lifelines.append(lifeline)
        let process = try launch(arguments, output: restart ? "\(name)-restart.log" : "\(name).log", input: lifeline)
        if restart, let previous = processes[name] { earlier.append(previous) }
        processes[name] = process
    }

    /// Starts `locality node <arguments> --exit-on-stdin-eof` under `name` with `environment`
    /// added to this process's own: a node configured by its own flags, a file or the
    /// environment rather than by `start`'s fixed flags.
    public func startNode(name: String, arguments: [String], environment: [String: String] = [:]) throws {
        let lifeline = Pipe()
        lifelines.append(lifeline)
        processes[name] = try launch(["node"] + arguments + ["--exit-on-stdin-eof"], output: "\(name).log", input: lifeline, environment: environment)
    }

    /// Runs `locality <arguments>` to completion (at most `seconds`, then SIGKILL) and
    /// returns its exit status and its output.
    public func runCommand(_ arguments: [String], seconds: Double = 10) async throws -> (status: Int32, output: String) {
        let name = "command-\(UUID().uuidString).out"
        let process = try launch(arguments, output: name)
        for _ in 0..<Int(seconds * 20) where process.isRunning {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return (process.terminationStatus, (try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)) ?? "")
    }

    /// Sends `signal` to the child `name` if it is running.
    public func signal(_ name: String, _ signal: Int32) {
        guard let process = processes[name], process.isRunning else { return }
        kill(process.processIdentifier, signal)
    }

    /// Whether the child `name` is running.
    public func isRunning(_ name: String) -> Bool { processes[name]?.isRunning ?? false }

    /// Waits at most `seconds` for `name` to exit; returns its exit status, nil if still running.
    public func waitForExit(_ name: String, seconds: Double) async -> Int32? {
        guard let process = processes[name] else { return nil }
        for _ in 0..<Int(seconds * 20) where process.isRunning {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// The output `name` wrote so far.
    public func log(_ name: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent("\(name).log"), encoding: .utf8)) ?? ""
    }

    /// SIGTERM to every running child (a graceful leave), SIGKILL to any still running after 2 s.
    public func stopAll() {
        let running = (Array(processes.values) + earlier).filter(\.isRunning)
        for process in running { kill(process.processIdentifier, SIGTERM) }
        for _ in 0..<40 where running.contains(where: \.isRunning) { usleep(50_000) }
        killAll()
    }

    /// SIGKILLs every child still running and waits (bounded) for each to be reaped.
    public func killAll() {
        let all = Array(processes.values) + earlier
        for process in all where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for process in all {
            for _ in 0..<100 where process.isRunning { usleep(20_000) }
        }
    }

    /// Deletes the directory with the logs and key files.
    public func removeDirectory() { try? FileManager.default.removeItem(at: directory) }

    private func launch(_ arguments: [String], output: String, input: Pipe? = nil, environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, added in added }
        }
        if let input { process.standardInput = input }
        let log = directory.appendingPathComponent(output)
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try handle.close()
        return process
    }
}
