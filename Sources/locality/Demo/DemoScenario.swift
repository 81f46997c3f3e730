import Foundation
import LocalityMembership

/// The demo's script: converge, crash one node (SIGKILL), stop another (SIGTERM), and
/// time how long the survivors take to see each.
struct DemoScenario {
    let cluster: DemoCluster
    let phaseTimeout: Double

    func run() async throws -> DemoReport {
        var report = DemoReport(nodes: cluster.names.count)
        let all = cluster.names
        let victim = all[all.count / 2]
        let leaver = all[all.count - 1]

        print("Locality demo: \(all.count) nodes on loopback, SWIM gossip with Lifeguard, authenticated packets")
        print("logs: \(cluster.directory.path)\n")
        try cluster.startAll()
        for name in all { print("  started \(name) on \(cluster.address(of: name))") }

        report.convergence = await phase("all \(all.count) nodes see \(all.count) alive members", watching: all) { view in
            all.allSatisfy { view[$0] == .alive }
        }
        if report.convergence != nil, let view = await cluster.view(of: all[0]) { printView(view, from: all[0]) }

        print("\n  crash: SIGKILL \(victim)")
        let killedAt = ContinuousClock.now
        cluster.processes.signal(victim, SIGKILL)
        let survivors = all.filter { $0 != victim }
        report.firstSuspect = await phase("first survivor suspects \(victim) or declares it dead", watching: survivors, any: true, since: killedAt) { view in
            view[victim] == .suspect || view[victim] == .dead
        }
        report.crashDetected = await phase("every survivor marks \(victim) dead", watching: survivors, since: killedAt) { view in
            view[victim] == .dead
        }

        print("\n  graceful stop: SIGTERM \(leaver)")
        cluster.processes.signal(leaver, SIGTERM)
        let remaining = survivors.filter { $0 != leaver }
        report.leaveSeen = await phase("every remaining node shows \(leaver) left", watching: remaining) { view in
            view[leaver] == .left
        }
        report.healthy = await phase("the \(remaining.count) remaining nodes still see each other alive", watching: remaining) { view in
            remaining.allSatisfy { view[$0] == .alive }
        }
        if let view = await cluster.view(of: remaining[0]) { printView(view, from: remaining[0]) }
        return report
    }

    /// Polls every 100 ms until `accept` holds for every node in `names` (or for any
    /// one, with `any`); prints the outcome and returns the seconds since `start`.
    private func phase(
        _ title: String, watching names: [String], any: Bool = false, since start: ContinuousClock.Instant = .now,
        _ accept: ([String: MemberStatus]) -> Bool
    ) async -> Double? {
        var frame = 0
        let spinner = ["|", "/", "-", "\\"]
        while ContinuousClock.now - start < .seconds(phaseTimeout) {
            var hits = 0
            for name in names {
                if let view = await cluster.view(of: name), accept(view) { hits += 1 }
            }
            let elapsed = (ContinuousClock.now - start).seconds
            if any ? hits > 0 : hits == names.count {
                print("\r  ✓ \(title): \(String(format: "%.2f", elapsed)) s          ")
                return elapsed
            }
            FileHandle.standardOutput.write(Data("\r  \(spinner[frame % 4]) \(title): \(hits)/\(names.count) after \(String(format: "%.1f", elapsed)) s".utf8))
            frame += 1
            try? await Task.sleep(for: .milliseconds(100))
        }
        print("\r  ✗ \(title): not within \(phaseTimeout) s          ")
        return nil
    }

    private func printView(_ view: [String: MemberStatus], from name: String) {
        print("\n  view of \(name):")
        for member in view.keys.sorted() { print("    \(member.padding(toLength: 6, withPad: " ", startingAt: 0)) \(view[member]!)") }
    }
}

/// What the demo measured, printed as a table at the end.
struct DemoReport {
    var nodes: Int
    var convergence: Double?
    var firstSuspect: Double?
    var crashDetected: Double?
    var leaveSeen: Double?
    var healthy: Double?

    var passed: Bool { [convergence, crashDetected, leaveSeen, healthy].allSatisfy { $0 != nil } }

    func print() {
        func cell(_ value: Double?) -> String { value.map { String(format: "%6.2f s", $0) } ?? "  failed" }
        Swift.print("""

        ┌──────────────────────────────────────────────┬──────────┐
        │ \("\(nodes) nodes on loopback, default SWIM settings".padding(toLength: 44, withPad: " ", startingAt: 0)) │   time   │
        ├──────────────────────────────────────────────┼──────────┤
        │ start → all see all alive                    │ \(cell(convergence)) │
        │ SIGKILL → first suspicion or death           │ \(cell(firstSuspect)) │
        │ SIGKILL → every survivor marks it dead       │ \(cell(crashDetected)) │
        │ SIGTERM → every survivor shows it left       │ \(cell(leaveSeen)) │
        │ remaining nodes alive after both             │ \(cell(healthy)) │
        └──────────────────────────────────────────────┴──────────┘
        (serf, the reference: a SIGKILLed member is known failed by all after ~5.8 s)
        \(passed ? "demo passed" : "demo FAILED: a phase did not complete")
        """)
    }
}
