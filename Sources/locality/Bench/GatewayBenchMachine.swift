import Foundation

/// Facts about the machine for the `bench gateway` report, and the executables it looks up.
enum GatewayBenchMachine {
    /// The first executable `name` on PATH (then /usr/bin, /usr/local/bin).
    static func executable(named name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin", "/bin"]
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The 1-minute load average.
    static func loadAverage() -> Double {
        var loads = [Double](repeating: 0, count: 3)
        return getloadavg(&loads, 3) > 0 ? (loads[0] * 100).rounded() / 100 : -1
    }

    /// The machine in the report.
    struct Facts: Encodable, Sendable {
        var cpus: Int
        var cpuModel: String
        var kernel: String
        /// How this `locality` was compiled: debug or release.
        var build: String
        var load1mBefore: Double
        var load1mAfter: Double

        enum CodingKeys: String, CodingKey {
            case cpus, kernel, build
            case cpuModel = "cpu_model"
            case load1mBefore = "load_1m_before"
            case load1mAfter = "load_1m_after"
        }
    }

    /// "debug" when assertions run (a debug build), else "release".
    static let build: String = {
        var debug = false
        assert({ debug = true; return true }())
        return debug ? "debug" : "release"
    }()

    static func describe(cpus: Int, loadBefore: Double, loadAfter: Double) -> Facts {
        let cpuInfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuInfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        let kernel = ((try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)) ?? "unknown")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return Facts(
            cpus: cpus, cpuModel: model, kernel: kernel, build: build,
            load1mBefore: loadBefore, load1mAfter: loadAfter)
    }
}
