import Foundation

/// A set of CPUs in the kernel's list format (`0-1,4`): `Cpus_allowed_list` in
/// `/proc/PID/status`, and what `taskset -c -p PID` prints and accepts.
public struct CPUList: Sendable, Equatable, CustomStringConvertible {
    /// The CPU numbers, ascending, each once.
    public let cpus: [Int]

    public init(_ cpus: [Int]) {
        self.cpus = Array(Set(cpus)).sorted()
    }

    /// Parses `0-1,4` (ranges and single CPUs, comma-separated, spaces allowed); nil for
    /// anything else or an empty list.
    public init?(parsing text: String) {
        var cpus: [Int] = []
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard (1...2).contains(bounds.count), let low = Int(bounds[0]), low >= 0 else { return nil }
            let high = bounds.count == 2 ? Int(bounds[1]) : low
            guard let high, high >= low, high - low < 65_536 else { return nil }
            cpus += Array(low...high)
        }
        guard !cpus.isEmpty else { return nil }
        self.init(cpus)
    }

    /// The list `taskset -c -p PID` reports (`pid 42's current affinity list: 0,1`), or
    /// the last one when it printed several lines (`-a`: one per thread).
    public init?(tasksetOutput text: String) {
        let lines = text.split(separator: "\n").filter { $0.contains("affinity list:") }
        guard let line = lines.last, let colon = line.lastIndex(of: ":") else { return nil }
        self.init(parsing: String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
    }

    /// The CPUs this process may run on, from `Cpus_allowed_list` in `/proc/self/status`
    /// text; nil when the line is missing.
    public init?(procStatus text: String) {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }) else { return nil }
        self.init(parsing: String(line.dropFirst("Cpus_allowed_list:".count)).trimmingCharacters(in: .whitespaces))
    }

    /// Kernel list format, ranges collapsed: `0-3,6`.
    public var description: String {
        var parts: [String] = []
        var index = 0
        while index < cpus.count {
            var end = index
            while end + 1 < cpus.count, cpus[end + 1] == cpus[end] + 1 { end += 1 }
            parts.append(end == index ? "\(cpus[index])" : "\(cpus[index])-\(cpus[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }
}
