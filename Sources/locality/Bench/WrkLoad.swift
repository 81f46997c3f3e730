import ArgumentParser
import Foundation
import Subprocess
import SystemPackage

/// The load generator of `bench gateway`: Debian `wrk` with a Lua script that POSTs a JSON
/// body to `/v1/actors/counter/k<i>/<method>`, `i` cycling over `keys` keys, and prints
/// one JSON line with its summary when done.
struct WrkLoad {
    /// The actor method called and its body.
    enum Call: String, Sendable {
        case value, increment

        var body: String {
            switch self {
            case .value: "{}"
            case .increment: "{\"by\":1}"
            }
        }
    }

    /// What wrk's `done(summary, latency, requests)` printed.
    struct Summary: Decodable, Sendable {
        struct Errors: Decodable, Sendable {
            var connect: Int
            var read: Int
            var write: Int
            /// Responses with a status above 399 (wrk counts them as errors).
            var status: Int
            var timeout: Int

            var total: Int { connect + read + write + status + timeout }
        }

        struct Latency: Decodable, Sendable {
            var p50: Double
            var p99: Double
            var p999: Double
            var max: Double
            var mean: Double
        }

        /// Responses received (wrk counts a non-2xx response as a request, and as an error).
        var requests: Int
        /// Microseconds.
        var durationUs: Double
        var bytes: Int
        var errors: Errors
        /// Microseconds, from wrk's HdrHistogram.
        var latencyUs: Latency

        enum CodingKeys: String, CodingKey {
            case requests, bytes, errors
            case durationUs = "duration_us"
            case latencyUs = "latency_us"
        }

        /// 2xx responses per second.
        var okPerSecond: Double {
            durationUs > 0 ? Double(max(0, requests - errors.status)) / (durationUs / 1e6) : 0
        }
    }

    var wrkPath: String
    /// `taskset` and the CPU wrk runs on, or nil for no pinning.
    var pin: (taskset: String, cpu: Int)?
    var connections: Int
    var keys: Int
    var directory: String

    /// Writes the Lua script for `call` and returns its path: over keys `k0` … `k<keys-1>`,
    /// or, with `only`, over those key numbers (written to a file the script reads).
    func writeScript(_ call: Call, only keyNumbers: [Int]? = nil, name: String? = nil) throws -> String {
        let base = directory + "/wrk-\(name ?? call.rawValue)"
        var keyFile: String?
        if let keyNumbers {
            keyFile = base + ".keys"
            try keyNumbers.map { "\($0)\n" }.joined().write(toFile: base + ".keys", atomically: true, encoding: .utf8)
        }
        try Self.script(call: call, keys: keys, keyFile: keyFile).write(toFile: base + ".lua", atomically: true, encoding: .utf8)
        return base + ".lua"
    }

    /// The Lua script: requests prepared once per thread in `init` (for keys `k0` …
    /// `k<keys-1>`, or the key numbers listed in `keyFile`, one a line), taken in turn by
    /// `request`; `done` prints one JSON line (times in microseconds).
    static func script(call: Call, keys: Int, keyFile: String? = nil) -> String {
        """
        -- written by `locality bench gateway`
        wrk.method = "POST"
        wrk.headers["Content-Type"] = "application/json"
        local keys = \(keys)
        local key_file = \(keyFile.map { "[==[\($0)]==]" } ?? "nil")
        local prepared = {}
        local count = 0
        local next_index = 0
        local function prepare(id)
          prepared[count] = wrk.format("POST", "/v1/actors/counter/k" .. id .. "/\(call.rawValue)", nil, '\(call.body)')
          count = count + 1
        end
        init = function(args)
          if key_file then
            for line in io.lines(key_file) do
              if line ~= "" then prepare(line) end
            end
          else
            for i = 0, keys - 1 do prepare(i) end
          end
        end
        request = function()
          local r = prepared[next_index]
          next_index = (next_index + 1) % count
          return r
        end
        done = function(summary, latency, requests)
          local e = summary.errors
          io.write(string.format('{"requests":%d,"duration_us":%d,"bytes":%d,' ..
            '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
            '"latency_us":{"p50":%.1f,"p99":%.1f,"p999":%.1f,"max":%.1f,"mean":%.1f}}\\n',
            summary.requests, summary.duration, summary.bytes,
            e.connect, e.read, e.write, e.status, e.timeout,
            latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean))
        end
        """
    }

    /// Runs `wrk -t1 -c<connections> -d<seconds>s` against `127.0.0.1:port` with `script`
    /// (`connections` defaults to the load's); at most `seconds + 30` s, then wrk is
    /// stopped and this throws.
    func run(script: String, port: Int, seconds: Int, connections: Int? = nil) async throws -> Summary {
        let wrkArguments = ["-t1", "-c\(connections ?? self.connections)", "-d\(seconds)s", "--timeout", "5s", "-s", script, "http://127.0.0.1:\(port)"]
        let (program, argv): (String, [String]) = if let pin {
            (pin.taskset, ["-c", String(pin.cpu), wrkPath] + wrkArguments)
        } else {
            (wrkPath, wrkArguments)
        }
        var options = PlatformOptions()
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(2))]
        let running = Task { [options] in
            try await Subprocess.run(
                .path(FilePath(program)), arguments: Arguments(argv), platformOptions: options,
                output: .string(limit: 1 << 20), error: .string(limit: 1 << 16))
        }
        let limit = Duration.seconds(seconds + 30)
        let timer = Task {
            try await Task.sleep(for: limit)
            running.cancel()
        }
        defer { timer.cancel() }
        let result: ExecutionResult<Void, StringOutput<UTF8>, StringOutput<UTF8>>
        do {
            result = try await withTaskCancellationHandler {
                try await running.value
            } onCancel: {
                running.cancel()
            }
        } catch {
            throw GatewayBenchFailure("wrk failed or took longer than \(limit): \(error)")
        }
        let output = result.standardOutput
        guard result.terminationStatus.isSuccess,
              let line = output.split(separator: "\n").last(where: { $0.hasPrefix("{\"requests\"") })
        else {
            throw GatewayBenchFailure("wrk \(result.terminationStatus): \(output) \(result.standardError)")
        }
        return try JSONDecoder().decode(Summary.self, from: Data(line.utf8))
    }

    /// The path of `wrk`, installing Debian's package (as `scripts/gateway-load` does) when
    /// it is missing.
    static func locateOrInstall(log: (String) -> Void) async throws -> String {
        if let found = GatewayBenchMachine.executable(named: "wrk") { return found }
        log("wrk not found: apt-get install -y wrk")
        for step in [["install", "-y", "-qq", "wrk"], ["update", "-qq"], ["install", "-y", "-qq", "wrk"]] {
            if GatewayBenchMachine.executable(named: "wrk") != nil { break }
            var options = PlatformOptions()
            options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(2))]
            let running = Task { [options] in
                try await Subprocess.run(
                    .name("apt-get"), arguments: Arguments(step), environment: .inherit.updating(["DEBIAN_FRONTEND": "noninteractive"]),
                    platformOptions: options, output: .discarded, error: .discarded)
            }
            let timer = Task {
                try await Task.sleep(for: .seconds(300))
                running.cancel()
            }
            _ = try? await running.value
            timer.cancel()
        }
        guard let found = GatewayBenchMachine.executable(named: "wrk") else {
            throw GatewayBenchFailure("wrk is not installed and `apt-get install -y wrk` failed: install it and run again")
        }
        return found
    }
}
