import ArgumentParser
import Foundation
import LocalityBench

/// CPU isolation of `bench stateful` (`--pin`, on by default with 2 or more usable CPUs and
/// `taskset`): the servers — every bench-server child, and the PostgreSQL and Redis server
/// processes the run uses — on the first CPU this process may use, the load generator
/// (this process, every thread) on the second. Services get their previous affinity back
/// by `restore()`. `summary` says exactly what was done, or why nothing was, for the report.
///
/// It cannot isolate what the CPUs share: the last-level cache and memory bandwidth, and
/// kernel work (softirq network processing of loopback traffic, disk I/O completion)
/// that runs on whichever CPU the kernel picks.
final class StatefulPinning {
    /// The servers' CPU and the load generator's, when pinning.
    let serverCPU: Int
    let generatorCPU: Int
    /// `taskset`, nil when not pinning.
    let taskset: Taskset?
    private var steps: [String] = []
    private var reason: String
    private var moved: [Moved] = []

    /// A process moved to the servers' CPU, and the CPUs it had.
    private struct Moved {
        let label: String
        let pid: Int32
        let previous: CPUList
        /// Also give its children forked during the run the previous CPUs back (PostgreSQL).
        let withChildren: Bool
    }

    private init(taskset: Taskset?, serverCPU: Int, generatorCPU: Int, reason: String) {
        self.taskset = taskset
        self.serverCPU = serverCPU
        self.generatorCPU = generatorCPU
        self.reason = reason
    }

    /// Pinning as `requested` (`--pin`: true, `--no-pin`: false, neither: nil = when
    /// possible). Throws for `--pin` when it is not possible.
    static func decide(requested: Bool?) throws -> StatefulPinning {
        if requested == false { return StatefulPinning(taskset: nil, serverCPU: 0, generatorCPU: 0, reason: "none: --no-pin") }
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let allowed = CPUList(procStatus: status)?.cpus ?? []
        let tasksetPath = GatewayBenchMachine.executable(named: "taskset")
        let problem: String? =
            if allowed.count < 2 {
                "none: this process may use \(allowed.count) CPU(s) (\(CPUList(allowed).description)), isolation needs 2"
            } else if tasksetPath == nil {
                "none: taskset (util-linux) not found"
            } else {
                nil
            }
        if let problem {
            if requested == true { throw ValidationError("--pin: \(problem.dropFirst("none: ".count))") }
            return StatefulPinning(taskset: nil, serverCPU: 0, generatorCPU: 0, reason: problem)
        }
        return StatefulPinning(taskset: Taskset(path: tasksetPath!), serverCPU: allowed[0], generatorCPU: allowed[1], reason: "")
    }

    /// `taskset` and the CPU to start server children on, nil when not pinning.
    var childPin: (taskset: String, cpu: Int)? {
        taskset.map { ($0.path, serverCPU) }
    }

    /// Records that the bench-server children were started on the servers' CPU.
    func childrenStarted(_ count: Int) {
        guard taskset != nil else { return }
        steps.append("\(count) bench-server process(es) started with `taskset -c \(serverCPU)`")
    }

    /// Moves a server process (and, `withChildren`, its current children; children forked
    /// later inherit its mask) to the servers' CPU; records what happened.
    func pinService(_ name: String, _ lookup: Result<ServiceProcesses.Found, ServiceProcesses.Failure>, withChildren: Bool) async {
        guard let taskset else { return }
        switch lookup {
        case .failure(let failure):
            steps.append("\(name) not pinned: \(failure)")
        case .success(let found):
            do {
                let previous = try await taskset.affinity(of: found.pid)
                let target = CPUList([serverCPU])
                try await taskset.pin(found.pid, to: target)
                moved.append(Moved(label: name, pid: found.pid, previous: previous, withChildren: withChildren))
                var children = 0
                if withChildren {
                    for child in ServiceProcesses.children(of: found.pid) {
                        guard let childPrevious = try? await taskset.affinity(of: child),
                              (try? await taskset.pin(child, to: target)) != nil else { continue }
                        moved.append(Moved(label: "\(name) child", pid: child, previous: childPrevious, withChildren: false))
                        children += 1
                    }
                }
                let family = withChildren ? " and its \(children) child processes (backends forked later inherit it)" : ""
                steps.append("\(name) pid \(found.pid) (\(found.how))\(family) moved to CPU \(serverCPU) with `taskset -a -c -p` (was \(previous), restored after the run)")
            } catch {
                steps.append("\(name) pid \(found.pid) not pinned: \(error)")
            }
        }
    }

    /// Moves this process, every thread, to the generator's CPU (threads created later
    /// inherit it).
    func pinGenerator() async {
        guard let taskset else { return }
        let pid = getpid()
        do {
            try await taskset.pin(pid, to: CPUList([generatorCPU]))
            steps.append("load generator (this process, pid \(pid), all threads) moved to CPU \(generatorCPU) with `taskset -a -c -p`")
        } catch {
            steps.append("load generator not pinned: \(error)")
        }
    }

    /// Gives every moved service process its previous CPUs back, and the children its
    /// parents forked during the run their parent's.
    func restore() async {
        guard let taskset else { return }
        let moved = self.moved
        self.moved = []
        var failures: [String] = []
        let recorded = Set(moved.map(\.pid))
        for process in moved where ServiceProcesses.isAlive(process.pid) {
            do {
                try await taskset.pin(process.pid, to: process.previous)
            } catch {
                failures.append("\(process.label) \(process.pid): \(error)")
            }
            guard process.withChildren else { continue }
            for child in ServiceProcesses.children(of: process.pid) where !recorded.contains(child) {
                if (try? await taskset.pin(child, to: process.previous)) == nil, ServiceProcesses.isAlive(child) {
                    failures.append("\(process.label) child \(child)")
                }
            }
        }
        if !failures.isEmpty { steps.append("restoring failed for " + failures.joined(separator: ", ")) }
    }

    /// What was done, or why nothing was: the report's `pinning`.
    var summary: String {
        guard taskset != nil else { return reason }
        return "servers on CPU \(serverCPU), load generator on CPU \(generatorCPU): " + steps.joined(separator: "; ")
    }
}
