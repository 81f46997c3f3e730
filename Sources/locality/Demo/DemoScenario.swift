import Foundation
import LocalityBench
import LocalityMembership

/// The demo's script: start the cluster, drive the PlayerStats workload through the
/// gateways with a progress bar, SIGKILL one node halfway, and check afterwards that no
/// acknowledged write was lost.
struct DemoScenario {
    let cluster: DemoCluster
    let workload: DemoWorkload
    let phaseTimeout: Double
    let plotPath: String

    func run() async throws -> DemoReport {
        let all = cluster.names
        let victim = all[all.count - 1]
        var report = DemoReport(nodes: all.count, workload: workload, victim: victim)

        print("Locality demo: \(all.count) nodes on loopback: SWIM gossip, consistent hashing, virtual actors, SQLite")
        print("logs and database: \(cluster.directory.path)\n")
        try cluster.startAll()
        report.convergence = await phase("all \(all.count) nodes see \(all.count) alive members", watching: all) { view in
            all.allSatisfy { view[$0] == .alive }
        }
        guard report.convergence != nil else { return report }
        print("  dashboard: \(cluster.dashboardURL(of: all[0]))  (live while the demo runs)\n")

        let seconds = Int(workload.duration.seconds.rounded(.up))
        let ledger = DemoLedger(players: workload.players, seconds: seconds + 1)
        let start = ContinuousClock.now
        print("  workload: \(workload.clients) clients, \(workload.players) players, \(Int(workload.writeRatio * 100))% writes (recordMatch), \(seconds) s; SIGKILL \(victim) at \(seconds / 2) s")
        let progress = Task { await ProgressBar(ledger: ledger, start: start, duration: workload.duration).run() }
        let killer = Task { () -> Double? in
            try? await Task.sleep(until: start + workload.duration / 2)
            cluster.processes.signal(victim, SIGKILL)
            let killedAt = ContinuousClock.now
            let survivors = all.filter { $0 != victim }
            return await waitQuietly(watching: survivors, since: killedAt) { $0[victim] == .dead }
        }
        await workload.run(ledger: ledger, start: start)
        progress.cancel()
        _ = await progress.value
        report.crashDetected = await killer.value
        let state = ledger.snapshot
        report.ledger = state
        print("")

        let plot = DemoPlot(ledger: state, victim: victim, killSecond: workload.duration.seconds / 2).svg()
        do {
            try FileManager.default.createDirectory(
                at: URL(fileURLWithPath: plotPath).deletingLastPathComponent(), withIntermediateDirectories: true)
            try plot.write(toFile: plotPath, atomically: true, encoding: .utf8)
            report.plotPath = plotPath
        } catch {
            print("  could not write the plot to \(plotPath): \(error)")
        }

        print("  checking every acknowledged write against memory and the SQLite file …")
        let verifier = DemoVerifier(httpPort: cluster.httpPort(of: all[0]), databasePath: cluster.databasePath)
        report.verification = try await verifier.verify(state)
        return report
    }

    /// Polls every 100 ms until `accept` holds for every node in `names`; prints the
    /// outcome and returns the seconds since `start`.
    private func phase(
        _ title: String, watching names: [String], since start: ContinuousClock.Instant = .now,
        _ accept: ([String: MemberStatus]) -> Bool
    ) async -> Double? {
        let elapsed = await waitQuietly(watching: names, since: start, accept)
        if let elapsed {
            print("  ✓ \(title): \(String(format: "%.2f", elapsed)) s")
        } else {
            print("  ✗ \(title): not within \(phaseTimeout) s")
        }
        return elapsed
    }

    private func waitQuietly(
        watching names: [String], since start: ContinuousClock.Instant,
        _ accept: ([String: MemberStatus]) -> Bool
    ) async -> Double? {
        while ContinuousClock.now - start < .seconds(phaseTimeout) {
            var hits = 0
            for name in names {
                if let view = await cluster.view(of: name), accept(view) { hits += 1 }
            }
            if hits == names.count { return (ContinuousClock.now - start).seconds }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }
}

/// The one-line progress bar of the workload: elapsed time, requests per second, p99 of
/// the last second, errors.
struct ProgressBar {
    let ledger: DemoLedger
    let start: ContinuousClock.Instant
    let duration: Duration

    func run() async {
        let total = duration.seconds
        let terminal = isatty(STDOUT_FILENO) == 1
        var printedSecond = 0
        while !Task.isCancelled {
            let elapsed = min(total, (ContinuousClock.now - start).seconds)
            let last = ledger.progress(second: Int(elapsed) - 1)
            let width = 30
            let filled = Int(Double(width) * elapsed / total)
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let numbers = String(
                format: "%4.1f/%.0f s  %6.0f req/s  p99 %6.2f ms  errors %d   ",
                elapsed, total, Double(last.requests), last.p99Milliseconds, last.errors)
            if terminal {
                print("\r  \(bar) \(numbers)", terminator: "")
                fflush(nil)
            } else if Int(elapsed) >= printedSecond + 2 {
                // Not a terminal (a log, a pipe): a plain line every 2 s.
                printedSecond = Int(elapsed)
                print("  \(bar) \(numbers)")
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }
}
