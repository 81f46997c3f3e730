import Foundation

/// What `bench gateway` prints: one JSON object (`--json`) or a table.
struct GatewayBenchReport: Encodable {
    var setups: [GatewaySetup: GatewaySetupResult]
    var pinning: String
    var machine: GatewayBenchMachine.Facts
    var command: String
    var durationSeconds: Int
    var connections: Int
    var keys: Int
    var warmupSeconds: Int
    /// `cluster3_read`'s forwarding figures.
    var clusterRead: ClusterFigures?
    /// `cluster3_direct`'s forwarding figures.
    var clusterDirect: ClusterFigures?
    var notes: [String] = []

    private func rps(_ setup: GatewaySetup) -> Double? { setups[setup]?.rps }
    private func perCPU(_ setup: GatewaySetup) -> Double? { setups[setup]?.requestsPerCPUSecond }

    private static func ratio(_ top: Double?, _ bottom: Double?) -> Double? {
        guard let top, let bottom, bottom > 0 else { return nil }
        return (top / bottom * 1000).rounded() / 1000
    }

    private static func share(_ value: Double?) -> Double? { value.map { ($0 * 1000).rounded() / 1000 } }

    var ratioReadMemory: Double? { Self.ratio(rps(.readMemory), rps(.bare)) }
    var ratioWriteMemory: Double? { Self.ratio(rps(.writeMemory), rps(.bare)) }
    var ratioWriteSQLite: Double? { Self.ratio(rps(.writeSQLite), rps(.bare)) }
    var ratioReadSQLite1: Double? { Self.ratio(rps(.readSQLite1), rps(.bare)) }
    var p99RatioReadMemory: Double? { Self.ratio(setups[.readMemory]?.p99Ms, setups[.bare]?.p99Ms) }
    var cluster3OverNode1: Double? { Self.ratio(rps(.cluster3Read), rps(.readSQLite1)) }
    var cluster3DirectOverNode1: Double? { Self.ratio(rps(.cluster3Direct), rps(.readSQLite1)) }
    var perCPURatioReadMemory: Double? { Self.ratio(perCPU(.readMemory), perCPU(.bare)) }
    var perCPURatioWriteMemory: Double? { Self.ratio(perCPU(.writeMemory), perCPU(.bare)) }
    var perCPURatioWriteSQLite: Double? { Self.ratio(perCPU(.writeSQLite), perCPU(.bare)) }

    enum CodingKeys: String, CodingKey {
        case setups, pinning, machine, command, connections, keys, notes
        case durationSeconds = "duration_s"
        case warmupSeconds = "warmup_s"
        case ratioReadMemory = "ratio_read_memory"
        case ratioWriteMemory = "ratio_write_memory"
        case ratioWriteSQLite = "ratio_write_sqlite"
        case ratioReadSQLite1 = "ratio_read_sqlite1"
        case p99RatioReadMemory = "p99_ratio_read_memory"
        case cluster3OverNode1 = "cluster3_over_node1"
        case perCPURatioReadMemory = "per_cpu_ratio_read_memory"
        case perCPURatioWriteMemory = "per_cpu_ratio_write_memory"
        case perCPURatioWriteSQLite = "per_cpu_ratio_write_sqlite"
        case cluster3DirectOverNode1 = "cluster3_direct_over_node1"
        case forwardedShare = "forwarded_share"
        case forwardedShareRing = "forwarded_share_ring"
        case forwardedShareDirect = "forwarded_share_direct"
        case loadGenerator = "load_generator"
    }

    /// Every key is written; a figure whose setups did not run is `null`.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Dictionary(uniqueKeysWithValues: setups.map { ($0.key.rawValue, $0.value) }), forKey: .setups)
        try container.encode(pinning, forKey: .pinning)
        try container.encode(machine, forKey: .machine)
        try container.encode(command, forKey: .command)
        try container.encode(durationSeconds, forKey: .durationSeconds)
        try container.encode(warmupSeconds, forKey: .warmupSeconds)
        try container.encode(connections, forKey: .connections)
        try container.encode(keys, forKey: .keys)
        try container.encode(notes, forKey: .notes)
        try container.encode(loadGenerator, forKey: .loadGenerator)
        try container.encode(ratioReadMemory, forKey: .ratioReadMemory)
        try container.encode(ratioWriteMemory, forKey: .ratioWriteMemory)
        try container.encode(ratioWriteSQLite, forKey: .ratioWriteSQLite)
        try container.encode(ratioReadSQLite1, forKey: .ratioReadSQLite1)
        try container.encode(p99RatioReadMemory, forKey: .p99RatioReadMemory)
        try container.encode(cluster3OverNode1, forKey: .cluster3OverNode1)
        try container.encode(cluster3DirectOverNode1, forKey: .cluster3DirectOverNode1)
        try container.encode(perCPURatioReadMemory, forKey: .perCPURatioReadMemory)
        try container.encode(perCPURatioWriteMemory, forKey: .perCPURatioWriteMemory)
        try container.encode(perCPURatioWriteSQLite, forKey: .perCPURatioWriteSQLite)
        try container.encode(Self.share(clusterRead?.share), forKey: .forwardedShare)
        try container.encode(Self.share(clusterRead?.ringShare), forKey: .forwardedShareRing)
        try container.encode(Self.share(clusterDirect?.share), forKey: .forwardedShareDirect)
    }

    var loadGenerator: String {
        "wrk -t1 -c\(connections), POST /v1/actors/counter/k<i>/<method>, i cycling over \(keys) keys; "
            + "cluster3_direct: one wrk -t1 per node with the keys it owns, \(connections) connections in all"
    }

    var text: String {
        func cell(_ text: String, _ width: Int, left: Bool = false) -> String {
            let pad = String(repeating: " ", count: max(0, width - text.count))
            return left ? text + pad : pad + text
        }
        func number(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "n/a" }
        var lines = [
            "bench gateway: wrk -t1 -c\(connections), \(warmupSeconds) s warm-up + \(durationSeconds) s per setup, \(keys) keys",
            "pinning: \(pinning)",
            "machine: \(machine.cpus) CPUs (\(machine.cpuModel)), kernel \(machine.kernel), \(machine.build) build, load (1 min) \(machine.load1mBefore) before, \(machine.load1mAfter) after",
            "",
            cell("setup", 17, left: true) + cell("call", 10, left: true) + cell("store", 28, left: true)
                + cell("req/s", 9) + cell("p50 ms", 9) + cell("p99 ms", 9) + cell("p99.9 ms", 10) + cell("errors", 8) + cell("CPU s", 8) + cell("req/CPU-s", 11),
        ]
        for setup in GatewaySetup.allCases {
            guard let r = setups[setup] else { continue }
            lines.append(
                cell(setup.rawValue, 17, left: true) + cell(r.call, 10, left: true) + cell(r.store, 28, left: true)
                    + cell(String(Int(r.rps)), 9) + cell(String(r.p50Ms), 9) + cell(String(r.p99Ms), 9) + cell(String(r.p999Ms), 10)
                    + cell(String(r.errors), 8) + cell(String(r.serverCPUSeconds), 8)
                    + cell(r.requestsPerCPUSecond.map { String(Int($0)) } ?? "n/a", 11))
        }
        lines.append("")
        lines.append("throughput vs bare: read_memory \(number(ratioReadMemory)), write_memory \(number(ratioWriteMemory)), write_sqlite \(number(ratioWriteSQLite)), read_sqlite1 \(number(ratioReadSQLite1)); p99 read_memory/bare \(number(p99RatioReadMemory))")
        lines.append("per CPU-second of the target vs bare: read_memory \(number(perCPURatioReadMemory)), write_memory \(number(perCPURatioWriteMemory)), write_sqlite \(number(perCPURatioWriteSQLite))")
        lines.append("cluster3_read / read_sqlite1: \(number(cluster3OverNode1)); forwarded share \(number(clusterRead?.share)) (ring: \(number(clusterRead?.ringShare)))")
        lines.append("cluster3_direct / read_sqlite1: \(number(cluster3DirectOverNode1)); forwarded share \(number(clusterDirect?.share))")
        for node in setups[.cluster3Direct]?.perNode ?? [] {
            lines.append("  cluster3_direct \(node.node) (\(node.gateway)): \(node.keys) keys, \(node.connections) connections, \(Int(node.rps)) req/s, p99 \(node.p99Ms) ms, \(node.errors) errors")
        }
        for note in notes { lines.append("note: \(note)") }
        return lines.joined(separator: "\n")
    }

    /// Anything a reader should not miss: errors, non-2xx answers, unclean exits, targets
    /// that were not CPU-bound, a forwarded share far from two thirds (`cluster3_read`) or
    /// from zero (`cluster3_direct`).
    static func notes(results: [GatewaySetup: GatewaySetupResult], clusterRead: ClusterFigures?, clusterDirect: ClusterFigures?, pinned: Bool) -> [String] {
        var notes: [String] = []
        for setup in GatewaySetup.allCases {
            guard let result = results[setup] else { continue }
            if result.errors > 0 {
                let kinds = result.errorsByKind.sorted { $0.key < $1.key }.filter { $0.value > 0 }.map { "\($0.key) \($0.value)" }
                notes.append("\(setup.rawValue): \(result.errors) errors (\(kinds.joined(separator: ", ")))")
            }
            if let statuses = result.gatewayStatuses, statuses.keys.contains(where: { !$0.hasPrefix("2") }) {
                notes.append("\(setup.rawValue): gateway actor answers by status \(statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))")
            }
            if pinned, result.serverCPUSeconds < 0.8 * result.durationSeconds {
                notes.append("\(setup.rawValue): the target used \(result.serverCPUSeconds) CPU-s in \(result.durationSeconds) s on its pinned CPU (other processes took turns on it, or the load generator was the limit); requests_per_cpu_s is the steadier figure")
            }
            for exit in result.exits where !exit.hasSuffix("exited(0)") {
                notes.append("\(setup.rawValue): \(exit)")
            }
        }
        if let share = clusterRead?.share, abs(share - 2.0 / 3.0) > 0.15 {
            notes.append("cluster3_read: forwarded share \(share), expected about 0.67")
        }
        if let share = clusterDirect?.share, share > 0.01 {
            notes.append("cluster3_direct: forwarded share \(share), expected about 0 (every call was sent to its key's owner)")
        }
        if results[.cluster3Direct] != nil, clusterDirect?.measuredShare == nil {
            notes.append("cluster3_direct: forwarded share not measured (a node's /metrics did not answer)")
        }
        return notes
    }
}
