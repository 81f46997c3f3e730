import Foundation
import LocalityBench
import Subprocess
import SystemPackage

/// A process's CPU affinity through util-linux `taskset` (`-a`: every thread of the
/// process; threads and processes it creates later inherit the mask of their creator).
struct Taskset: Sendable {
    /// The `taskset` executable.
    let path: String

    /// The CPUs process `pid` may run on (its main thread's list).
    func affinity(of pid: Int32) async throws -> CPUList {
        let output = try await run(["-c", "-p", String(pid)])
        guard let list = CPUList(tasksetOutput: output) else { throw TasksetFailure("taskset -c -p \(pid) said: \(output)") }
        return list
    }

    /// Sets the affinity of every thread of `pid` to `cpus`.
    func pin(_ pid: Int32, to cpus: CPUList) async throws {
        _ = try await run(["-a", "-c", "-p", cpus.description, String(pid)])
    }

    /// Runs `taskset arguments` (at most 10 s); its stdout, or throws with its stderr.
    private func run(_ arguments: [String]) async throws -> String {
        var options = PlatformOptions()
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(1))]
        let running = Task { [options, path] in
            try await Subprocess.run(
                .path(FilePath(path)), arguments: Arguments(arguments), platformOptions: options,
                output: .string(limit: 1 << 16), error: .string(limit: 1 << 12))
        }
        let timer = Task {
            try await Task.sleep(for: .seconds(10))
            running.cancel()
        }
        defer { timer.cancel() }
        let result = try await running.value
        guard result.terminationStatus.isSuccess else {
            let message = result.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
            throw TasksetFailure("taskset \(arguments.joined(separator: " ")): \(message.isEmpty ? "\(result.terminationStatus)" : message)")
        }
        return result.standardOutput
    }
}

/// A `taskset` run that failed, with what it said.
struct TasksetFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
