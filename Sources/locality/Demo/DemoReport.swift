import Foundation

/// What the demo measured, printed as a table at the end.
struct DemoReport {
    var nodes: Int
    var workload: DemoWorkload
    var victim: String
    var convergence: Double?
    var crashDetected: Double?
    var ledger: DemoLedger.State?
    var verification: DemoVerifier.Outcome?
    var plotPath: String?

    /// Passed: the cluster formed, the crash was detected, and no acknowledged write was lost.
    var passed: Bool {
        convergence != nil && crashDetected != nil && (verification?.passed ?? false)
    }

    func print() {
        var rows: [(String, String)] = []
        func seconds(_ value: Double?) -> String { value.map { String(format: "%.2f s", $0) } ?? "failed" }
        rows.append(("start → all nodes see all alive", seconds(convergence)))
        if let ledger {
            let total = ledger.total
            let elapsed = workload.duration.seconds
            rows.append(("requests ok (reads / writes)", "\(ledger.reads + ledger.writes) (\(ledger.reads) / \(ledger.writes))"))
            rows.append(("throughput", String(format: "%.0f req/s", Double(total.count) / elapsed)))
            rows.append(("latency p50 / p99 / p99.9", String(
                format: "%.2f / %.2f / %.2f ms", total.milliseconds(at: 50), total.milliseconds(at: 99), total.milliseconds(at: 99.9))))
            rows.append(("errors (calls unanswered within 5 s)", "\(ledger.errors)"))
            let retried = ledger.retriedCalls
            rows.append(("calls answered after a retry; their p99", retried.count == 0 ? "0" : String(
                format: "%llu; %.0f ms", retried.count, retried.milliseconds(at: 99))))
            if let last = ledger.lastErrorAt {
                rows.append(("last error, seconds after the kill", String(format: "%.1f s", last - elapsed / 2)))
            }
        }
        rows.append(("SIGKILL \(victim) → every survivor marks it dead", seconds(crashDetected)))
        if let verification {
            rows.append(("writes acknowledged / attempted", "\(verification.acknowledged) / \(verification.attempted)"))
            rows.append(("matches in memory / in SQLite", "\(verification.inMemory) / \(verification.stored)"))
            rows.append(("acknowledged writes lost", "\(verification.lostPlayers.count) players"))
        }
        let left = max(44, rows.map(\.0.count).max() ?? 0)
        let right = max(24, rows.map(\.1.count).max() ?? 0)
        let rule = { (l: String, m: String, r: String) in l + String(repeating: "─", count: left + 2) + m + String(repeating: "─", count: right + 2) + r }
        Swift.print("")
        Swift.print(rule("┌", "┬", "┐"))
        let title = "\(nodes) nodes, \(workload.players) players, \(workload.clients) clients"
        Swift.print("│ \(title.padding(toLength: left, withPad: " ", startingAt: 0)) │ \("".padding(toLength: right, withPad: " ", startingAt: 0)) │")
        Swift.print(rule("├", "┼", "┤"))
        for (name, value) in rows {
            Swift.print("│ \(name.padding(toLength: left, withPad: " ", startingAt: 0)) │ \(value.padding(toLength: right, withPad: " ", startingAt: 0)) │")
        }
        Swift.print(rule("└", "┴", "┘"))
        if let ledger, !ledger.errorsByReason.isEmpty {
            let reasons = ledger.errorsByReason.sorted { $0.value > $1.value }.map { "\($0.key): \($0.value)" }
            Swift.print("errors by reason: " + reasons.joined(separator: ", "))
        }
        if let ledger, !ledger.retriesByReason.isEmpty {
            let reasons = ledger.retriesByReason.sorted { $0.value > $1.value }.map { "\($0.key): \($0.value)" }
            Swift.print("attempts retried (writes under their Idempotency-Key): " + reasons.joined(separator: ", "))
        }
        if let verification, !verification.passed {
            let lost = verification.lostPlayers.prefix(5).joined(separator: ", ")
            let phantom = verification.phantomPlayers.prefix(5).joined(separator: ", ")
            let unreadable = verification.unreadable.prefix(5).joined(separator: ", ")
            Swift.print("lost: [\(lost)] phantom: [\(phantom)] unreadable: [\(unreadable)]")
        }
        if let plotPath { Swift.print("latency plot: \(plotPath)") }
        Swift.print(passed ? "demo passed: no acknowledged write lost" : "demo FAILED")
    }
}
