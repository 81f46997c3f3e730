import ArgumentParser
import Foundation

/// A benchmark's server half as a child `locality` process (`transport-echo-server`,
/// `actor-server`): started from this very binary with the cluster key in its
/// environment, ready once it prints `ready <port> [fields…]`, stopped by closing its stdin.
final class BenchServerChild {
    let process: Process
    let stdin: Pipe
    /// The port it listens on.
    let port: Int
    /// Whatever it printed after the port on its ready line.
    let fields: [String]

    private init(process: Process, stdin: Pipe, port: Int, fields: [String]) {
        self.process = process
        self.stdin = stdin
        self.port = port
        self.fields = fields
    }

    /// Starts this binary with `arguments`; with `pin`, through `taskset -c cpu` (which execs
    /// it: the child's pid is the program's, and every thread it starts runs on `cpu`).
    static func start(
        _ arguments: [String], clusterKey: [UInt8]? = nil, environment extra: [String: String] = [:], pin: (taskset: String, cpu: Int)? = nil
    ) throws -> BenchServerChild {
        let process = Process()
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        if let pin {
            process.executableURL = URL(fileURLWithPath: pin.taskset)
            process.arguments = ["-c", String(pin.cpu), executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        var environment = ProcessInfo.processInfo.environment
        if let clusterKey { environment["LOCALITY_CLUSTER_KEY"] = ClusterKeyHex.encode(clusterKey) }
        environment.merge(extra) { _, new in new }
        process.environment = environment
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = stdout.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw ValidationError("\(arguments[0]) exited before it was ready") }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let words = text.split(separator: " ").map(String.init)
        guard words.count >= 2, words[0] == "ready", let port = Int(words[1]) else {
            throw ValidationError("\(arguments[0]) said \(text)")
        }
        return BenchServerChild(process: process, stdin: stdin, port: port, fields: Array(words.dropFirst(2)))
    }

    /// Closes its stdin (it exits on EOF) and waits at most 10 s, then SIGKILLs it: bounded
    /// polling instead of `Process.waitUntilExit`, which can wait forever for a child
    /// Foundation never saw exit.
    func stop() {
        try? stdin.fileHandleForWriting.close()
        for _ in 0..<200 where process.isRunning { usleep(50_000) }
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        for _ in 0..<40 where process.isRunning { usleep(50_000) }
    }
}
