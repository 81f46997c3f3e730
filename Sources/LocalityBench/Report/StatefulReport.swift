/// Latency percentiles and throughput of one phase.
public struct PhaseFigures: Codable, Sendable, Equatable {
    public var offeredRPS: Double?
    public var throughputRPS: Double
    public var p50: Double
    public var p99: Double
    public var p999: Double
    public var requests: Int
    public var errors: Int
    public var unsent: Int
    /// (latency ms, percentile) points of the phase's CDF; not encoded.
    public var cdf: [CDFPoint] = []

    public struct CDFPoint: Sendable, Equatable {
        public var milliseconds: Double
        public var percentile: Double
        public init(milliseconds: Double, percentile: Double) {
            self.milliseconds = milliseconds
            self.percentile = percentile
        }
    }

    public init(offeredRPS: Double?, throughputRPS: Double, p50: Double, p99: Double, p999: Double, requests: Int, errors: Int, unsent: Int, cdf: [CDFPoint] = []) {
        self.offeredRPS = offeredRPS
        self.throughputRPS = throughputRPS
        self.p50 = p50
        self.p99 = p99
        self.p999 = p999
        self.requests = requests
        self.errors = errors
        self.unsent = unsent
        self.cdf = cdf
    }

    /// The figures of a finished phase.
    public init(_ outcome: HTTPLoadPhase.Outcome, offered: Double?) {
        self.init(
            offeredRPS: offered.map { $0.rounded() }, throughputRPS: outcome.throughput.rounded(),
            p50: outcome.tally.latency.milliseconds(at: 50), p99: outcome.tally.latency.milliseconds(at: 99),
            p999: outcome.tally.latency.milliseconds(at: 99.9), requests: outcome.tally.requests,
            errors: outcome.tally.errors, unsent: outcome.tally.unsent,
            cdf: outcome.tally.latency.cdf().map { CDFPoint(milliseconds: $0.milliseconds, percentile: $0.percentile) }
        )
    }

    enum CodingKeys: String, CodingKey {
        case offeredRPS = "offered_rps"
        case throughputRPS = "throughput_rps"
        case p50 = "p50_ms"
        case p99 = "p99_ms"
        case p999 = "p999_ms"
        case requests, errors, unsent
    }
}

/// One system's results in `locality bench stateful`.
public struct SystemResult: Codable, Sendable, Equatable {
    public var system: String
    /// Where the state is stored (e.g. `sqlite (WAL, synchronous=FULL)`).
    public var store: String
    public var durability: String
    /// Closed-loop maximum throughput (successful requests per second).
    public var throughputRPS: Double
    /// Latency percentiles measured at `latencyAtRPS` offered load (fixed rate).
    public var p50: Double
    public var p99: Double
    public var p999: Double
    public var latencyAtRPS: Double
    /// Failed requests over every phase (warm-up included).
    public var errors: Int
    public var correct: Bool
    public var verifiedKeys: Int
    public var mismatches: Int
    public var problems: [String]
    public var closedLoop: PhaseFigures
    public var fixedRate: [PhaseFigures]
    public var throughputRatioVsPostgres: Double?
    public var p99RatioVsPostgres: Double?
    public var throughputRatioVsRedis: Double?
    public var p99RatioVsRedis: Double?
    /// CPU seconds (user + system) the system's bench-server process used over the run.
    public var serverCPUSeconds: Double?
    /// Which HTTP front the load went through (`BenchAPI.rawValue`): `gateway` (a
    /// Locality node's gateway) or `bench-front` (the shared bench front).
    public var front: String?

    public init(
        system: String, store: String, durability: String, throughputRPS: Double, p50: Double, p99: Double, p999: Double,
        latencyAtRPS: Double, errors: Int, correct: Bool, verifiedKeys: Int, mismatches: Int, problems: [String],
        closedLoop: PhaseFigures, fixedRate: [PhaseFigures]
    ) {
        self.system = system
        self.store = store
        self.durability = durability
        self.throughputRPS = throughputRPS
        self.p50 = p50
        self.p99 = p99
        self.p999 = p999
        self.latencyAtRPS = latencyAtRPS
        self.errors = errors
        self.correct = correct
        self.verifiedKeys = verifiedKeys
        self.mismatches = mismatches
        self.problems = problems
        self.closedLoop = closedLoop
        self.fixedRate = fixedRate
    }

    enum CodingKeys: String, CodingKey {
        case system, store, durability, errors, correct, mismatches, problems
        case throughputRPS = "throughput_rps"
        case p50 = "p50_ms"
        case p99 = "p99_ms"
        case p999 = "p999_ms"
        case latencyAtRPS = "latency_at_rps"
        case verifiedKeys = "verified_keys"
        case closedLoop = "closed_loop"
        case fixedRate = "fixed_rate"
        case throughputRatioVsPostgres = "throughput_ratio_vs_postgres"
        case p99RatioVsPostgres = "p99_ratio_vs_postgres"
        case throughputRatioVsRedis = "throughput_ratio_vs_redis"
        case p99RatioVsRedis = "p99_ratio_vs_redis"
        case serverCPUSeconds = "server_cpu_s"
        case front
    }
}

/// What `locality bench stateful --json` prints.
public struct StatefulReport: Codable, Sendable, Equatable {
    public var date: String
    public var command: String
    public var durationSeconds: Double
    public var connections: Int
    public var workload: WorkloadSettings
    public var note: String
    public var systems: [String: SystemResult]
    /// CPU seconds (user + system) of the load generator's process over the run.
    public var generatorCPUSeconds: Double?
    /// Wall-clock seconds of the run.
    public var wallSeconds: Double?
    /// What was done to keep the load generator off the servers' CPU (which processes went
    /// to which CPU, and how), or why nothing was.
    public var pinning: String?

    public init(date: String, command: String, durationSeconds: Double, connections: Int, workload: WorkloadSettings, note: String, systems: [String: SystemResult]) {
        self.date = date
        self.command = command
        self.durationSeconds = durationSeconds
        self.connections = connections
        self.workload = workload
        self.note = note
        self.systems = systems
    }

    enum CodingKeys: String, CodingKey {
        case date, command, connections, workload, note, systems
        case durationSeconds = "duration_s"
        case generatorCPUSeconds = "generator_cpu_s"
        case wallSeconds = "wall_s"
        case pinning
    }

    /// Fills the ratio fields of every system against postgres and redis (when they ran).
    /// Throughput ratio: this ÷ baseline; p99 ratio: this ÷ baseline (lower is better).
    public mutating func computeRatios() {
        let postgres = systems[BenchSystem.postgres.rawValue]
        let redis = systems[BenchSystem.redis.rawValue]
        for name in systems.keys {
            var result = systems[name]!
            if let postgres {
                result.throughputRatioVsPostgres = Self.ratio(result.throughputRPS, postgres.throughputRPS)
                result.p99RatioVsPostgres = Self.ratio(result.p99, postgres.p99)
            }
            if let redis {
                result.throughputRatioVsRedis = Self.ratio(result.throughputRPS, redis.throughputRPS)
                result.p99RatioVsRedis = Self.ratio(result.p99, redis.p99)
            }
            systems[name] = result
        }
    }

    static func ratio(_ value: Double, _ baseline: Double) -> Double? {
        guard baseline > 0 else { return nil }
        return (value / baseline * 1000).rounded() / 1000
    }
}

