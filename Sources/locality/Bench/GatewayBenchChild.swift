import Foundation
import Subprocess
import Synchronization
import SystemPackage

/// One child process of `bench gateway` (a `locality node`, the bare Hummingbird server),
/// run by swift-subprocess in a task of its own, its standard output and error in a log
/// file.
///
/// Its standard input is a pipe this process holds open: the children run with
/// `--exit-on-stdin-eof`, so they go when this process dies, even by SIGKILL. `stop()`
/// sends SIGTERM, waits at most `gracePeriod`, then SIGKILLs; swift-subprocess reaps the
/// child (no `Process.waitUntilExit`, which can wait forever for a child it never saw exit).
final class GatewayBenchChild: Sendable {
    /// What it runs, for messages.
    let label: String
    /// Its process id (the program itself: `taskset` execs it).
    let pid: pid_t
    /// Its standard output and error.
    let logPath: String

    private let stopSignal: AsyncStream<Void>.Continuation
    private let state: ChildState

    /// How the child ended: its exit status, and whether it exited 0.
    struct Outcome: Sendable {
        var status: String
        var clean: Bool
    }

    /// Shared by the handle and the task that runs the child.
    private final class ChildState: Sendable {
        let outcome = Mutex<Outcome?>(nil)
        let spawned = Mutex<CheckedContinuation<pid_t, any Error>?>(nil)

        func reportSpawn(_ result: Result<pid_t, any Error>) {
            let waiting = spawned.withLock { pending in
                defer { pending = nil }
                return pending
            }
            waiting?.resume(with: result)
        }
    }

    static let gracePeriod: Duration = .seconds(10)

    private init(label: String, pid: pid_t, logPath: String, stopSignal: AsyncStream<Void>.Continuation, state: ChildState) {
        self.label = label
        self.pid = pid
        self.logPath = logPath
        self.stopSignal = stopSignal
        self.state = state
    }

    /// Starts `executable arguments`, pinned with `taskset -c cpu` when both are given;
    /// returns once it was spawned (not once it is ready: the caller polls for that).
    static func start(label: String, executable: String, arguments: [String], pinTo cpu: Int?, tasksetPath: String?, logPath: String) async throws -> GatewayBenchChild {
        let (program, argv): (String, [String]) = if let cpu, let tasksetPath {
            (tasksetPath, ["-c", String(cpu), executable] + arguments)
        } else {
            (executable, arguments)
        }
        let log = try FileDescriptor.open(
            FilePath(logPath), .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite])
        let (stopStream, stopSignal) = AsyncStream.makeStream(of: Void.self)
        let state = ChildState()
        let pid = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<pid_t, any Error>) in
            state.spawned.withLock { $0 = continuation }
            Task {
                var options = PlatformOptions()
                options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: Self.gracePeriod)]
                do {
                    let result = try await run(
                        .path(FilePath(program)), arguments: Arguments(argv), platformOptions: options,
                        input: .inputWriter, output: .fileDescriptor(log, closeAfterSpawningProcess: true),
                        error: .combinedWithOutput
                    ) { execution in
                        state.reportSpawn(.success(execution.processIdentifier.value))
                        for await _ in stopStream { break }
                        await execution.teardown(using: [.gracefulShutDown(allowedDurationToNextStep: Self.gracePeriod)])
                    }
                    state.outcome.withLock { $0 = Outcome(status: "\(result.terminationStatus)", clean: result.terminationStatus.isSuccess) }
                } catch {
                    state.outcome.withLock { $0 = Outcome(status: "failed: \(error)", clean: false) }
                    state.reportSpawn(.failure(error))
                }
            }
        }
        return GatewayBenchChild(label: label, pid: pid, logPath: logPath, stopSignal: stopSignal, state: state)
    }

    /// Whether the process still runs (not exited, not a zombie waiting to be reaped).
    var isRunning: Bool { state.outcome.withLock { $0 == nil } && Self.isRunning(pid) }

    /// How it ended, once it did.
    var ended: Outcome? { state.outcome.withLock { $0 } }

    /// SIGTERM, at most `gracePeriod` for it to exit, then SIGKILL; returns once it was
    /// reaped or after `gracePeriod` + 10 s at most.
    /// Runs in a task of its own, so a cancelled caller (Ctrl-C) still waits for the child.
    func stop() async {
        let stopSignal = self.stopSignal
        let state = self.state
        await Task {
            stopSignal.yield()
            stopSignal.finish()
            let limit = ContinuousClock.now + Self.gracePeriod + .seconds(10)
            while state.outcome.withLock({ $0 == nil }), ContinuousClock.now < limit {
                try? await Task.sleep(for: .milliseconds(20))
            }
        }.value
    }

    /// The last `lines` lines of its log.
    func logTail(_ lines: Int = 20) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// Whether `pid` exists and is not a zombie (from /proc/PID/stat).
    static func isRunning(_ pid: pid_t) -> Bool {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return false }
        let state = text[text.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }
}
