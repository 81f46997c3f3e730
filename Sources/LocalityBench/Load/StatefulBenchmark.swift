import Foundation
import LocalityCore

/// A bench server the benchmark drives: which system, where its load goes and how it is
/// shaped, where it is verified, and what backs it.
public struct BenchTarget: Sendable {
    public var system: BenchSystem
    /// The port of the shared bench front (`BenchHTTPFront`): the verifier reads
    /// `/v1/sessions` and `/v1/stored` there.
    public var port: Int
    /// The port the load goes to: `port` for the bench front, the node's gateway port for
    /// the gateway.
    public var loadPort: Int
    /// How the load's requests are shaped for `loadPort`.
    public var api: BenchAPI
    public var store: String
    public var durability: String

    /// A target; without `loadPort` the load goes to `port` as well.
    public init(system: BenchSystem, port: Int, store: String, durability: String, loadPort: Int? = nil, api: BenchAPI = .benchFront) {
        self.system = system
        self.port = port
        self.loadPort = loadPort ?? port
        self.api = api
        self.store = store
        self.durability = durability
    }
}

/// Settings of `locality bench stateful`.
public struct StatefulBenchSettings: Sendable {
    /// Seconds of the closed-loop (maximum throughput) phase.
    public var duration: Double = 20
    /// Connections (workers) of every phase.
    public var connections: Int = 64
    /// Offered loads of the fixed-rate phases; nil: a ladder derived from the measured
    /// maxima (see `StatefulBenchmark.rateLadder`).
    public var rates: [Double]?
    public var workload = WorkloadSettings()

    public init() {}

    /// Warm-up before the closed loop: duration/5, between 1 and 5 s.
    public var warmupSeconds: Double { min(5, max(1, duration / 5)) }
    /// Each fixed-rate phase: duration/4, between 1 and 10 s.
    public var rateSeconds: Double { min(10, max(1, duration / 4)) }
}

/// Runs `locality bench stateful` against bench servers that are already up: per system a
/// warm-up and a closed-loop phase (maximum throughput), then fixed-rate phases at the same
/// offered loads for every system (throughput vs offered load; the first, 50 % of the
/// slowest system's maximum, gives the headline latencies), then the correctness check.
public struct StatefulBenchmark: Sendable {
    public var settings: StatefulBenchSettings

    public init(settings: StatefulBenchSettings) {
        self.settings = settings
    }

    /// Offered loads for the fixed-rate phases: 5 points from 50 % of the smallest
    /// maximum to 120 % of the largest, geometrically spaced.
    public static func rateLadder(maxima: [Double]) -> [Double] {
        let positive = maxima.filter { $0 > 0 }
        guard let low = positive.min(), let high = positive.max() else { return [] }
        let first = 0.5 * low
        let last = max(1.2 * high, first * 1.01)
        let step = pow(last / first, 1.0 / 4.0)
        return (0..<5).map { (first * pow(step, Double($0))).rounded() }
    }

    public func run(targets: [BenchTarget], progress: @Sendable (String) -> Void = { _ in }) async throws -> [SystemResult] {
        let chooser = KeyChooser(keys: settings.workload.keys, skew: settings.workload.skew)
        var ledgers: [AckLedger] = []
        var errors: [Int] = []
        var closed: [PhaseFigures] = []
        var phaseIndex = 0
        for target in targets {
            var ledger = AckLedger(keys: settings.workload.keys)
            progress("\(target.system.rawValue): load through the \(target.api.rawValue) on 127.0.0.1:\(target.loadPort)")
            progress("\(target.system.rawValue): warm-up \(settings.warmupSeconds) s")
            let warmup = try await phase(target, .closedLoop, settings.warmupSeconds, &phaseIndex).run(chooser: chooser)
            ledger.add(warmup.ledger)
            progress("\(target.system.rawValue): closed loop \(settings.duration) s, \(settings.connections) connections")
            let outcome = try await phase(target, .closedLoop, settings.duration, &phaseIndex).run(chooser: chooser)
            ledger.add(outcome.ledger)
            closed.append(PhaseFigures(outcome, offered: nil))
            errors.append(warmup.tally.errors + outcome.tally.errors)
            ledgers.append(ledger)
            progress("\(target.system.rawValue): \(Int(outcome.throughput)) requests/s")
        }
        let rates = settings.rates ?? Self.rateLadder(maxima: closed.map(\.throughputRPS))
        var fixed: [[PhaseFigures]] = Array(repeating: [], count: targets.count)
        for (index, target) in targets.enumerated() {
            for rate in rates where rate > 0 {
                progress("\(target.system.rawValue): fixed rate \(Int(rate))/s for \(settings.rateSeconds) s")
                let outcome = try await phase(target, .fixedRate(rate), settings.rateSeconds, &phaseIndex).run(chooser: chooser)
                ledgers[index].add(outcome.ledger)
                errors[index] += outcome.tally.errors
                fixed[index].append(PhaseFigures(outcome, offered: rate))
            }
        }
        var results: [SystemResult] = []
        for (index, target) in targets.enumerated() {
            progress("\(target.system.rawValue): verifying \(settings.workload.keys) keys")
            let verdict = try await StateVerifier(port: target.port).verify(ledger: ledgers[index])
            let headline = fixed[index].first ?? closed[index]
            var result = SystemResult(
                system: target.system.rawValue, store: target.store, durability: target.durability,
                throughputRPS: closed[index].throughputRPS, p50: headline.p50, p99: headline.p99, p999: headline.p999,
                latencyAtRPS: headline.offeredRPS ?? closed[index].throughputRPS, errors: errors[index],
                correct: verdict.correct, verifiedKeys: verdict.keysChecked, mismatches: verdict.mismatches + verdict.unreadable,
                problems: verdict.examples, closedLoop: closed[index], fixedRate: fixed[index]
            )
            result.front = target.api.rawValue
            results.append(result)
        }
        return results
    }

    private func phase(_ target: BenchTarget, _ schedule: LoadSchedule, _ seconds: Double, _ index: inout Int) -> HTTPLoadPhase {
        index += 1
        return HTTPLoadPhase(
            port: target.loadPort, api: target.api, schedule: schedule, duration: .nanoseconds(Int64(seconds * 1e9)),
            connections: settings.connections, workload: settings.workload, phaseIndex: index
        )
    }
}
