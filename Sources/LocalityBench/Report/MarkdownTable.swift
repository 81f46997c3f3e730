/// The Markdown summary of a `StatefulReport`: one row per system, then the
/// throughput-vs-offered-load points.
public enum MarkdownTable {
    public static func render(_ report: StatefulReport, order: [String]) -> String {
        var lines: [String] = []
        lines.append("`\(report.command)` — \(report.date); \(report.workload.keys) keys, \(report.workload.skew.rawValue), write ratio \(format(report.workload.writeRatio)), \(report.connections) connections.")
        if let generator = report.generatorCPUSeconds, let wall = report.wallSeconds {
            let cores = report.pinning.map { ". CPU pinning: \($0)." } ?? ", on the same cores as the servers."
            lines.append("Load generator: \(format(generator)) CPU-seconds over \(format(wall)) s of measurement\(cores)")
        } else if let pinning = report.pinning {
            lines.append("CPU pinning: \(pinning).")
        }
        lines.append("")
        lines.append("| system | store | front | max throughput (req/s) | p50 ms | p99 ms | p99.9 ms | at req/s | errors | correct | × postgres (thr / p99) | × redis (thr / p99) | server CPU-s |")
        lines.append("|---|---|---|---:|---:|---:|---:|---:|---:|---|---|---|---:|")
        for name in order {
            guard let result = report.systems[name] else { continue }
            let postgres = ratioPair(result.throughputRatioVsPostgres, result.p99RatioVsPostgres)
            let redis = ratioPair(result.throughputRatioVsRedis, result.p99RatioVsRedis)
            lines.append("| \(name) | \(result.store) | \(result.front ?? "—") | \(format(result.throughputRPS)) | \(format(result.p50)) | \(format(result.p99)) | \(format(result.p999)) | \(format(result.latencyAtRPS)) | \(result.errors) | \(result.correct ? "yes" : "**no**") | \(postgres) | \(redis) | \(result.serverCPUSeconds.map(format) ?? "—") |")
        }
        lines.append("")
        lines.append("Throughput vs offered load (fixed rate, latency from the intended start):")
        lines.append("")
        lines.append("| system | offered req/s | achieved req/s | p50 ms | p99 ms | p99.9 ms | errors | unsent |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name in order {
            guard let result = report.systems[name] else { continue }
            for point in result.fixedRate {
                lines.append("| \(name) | \(format(point.offeredRPS ?? 0)) | \(format(point.throughputRPS)) | \(format(point.p50)) | \(format(point.p99)) | \(format(point.p999)) | \(point.errors) | \(point.unsent) |")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func ratioPair(_ throughput: Double?, _ p99: Double?) -> String {
        guard let throughput, let p99 else { return "—" }
        return "\(format(throughput)) / \(format(p99))"
    }

    /// Integers without decimals, others with up to 3.
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String((value * 1000).rounded() / 1000)
    }
}
