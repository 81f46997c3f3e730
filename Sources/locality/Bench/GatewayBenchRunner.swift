import ArgumentParser
import Foundation
import LocalityLauncher

/// Runs one setup of `bench gateway`: starts its target processes, waits until they answer,
/// warms up, measures with wrk, collects the targets' own figures and stops them, on every
/// path (an error included).
struct GatewayBenchRunner {
    /// This `locality` binary: the targets run exactly this build.
    var executable: String
    /// The run's temporary directory (key file, Lua scripts, logs, SQLite files).
    var directory: String
    /// `taskset` when the targets are pinned to CPU 0.
    var tasksetPath: String?
    var load: WrkLoad
    var duration: Int
    var log: @Sendable (String) -> Void

    var keyFile: String { directory + "/cluster.key" }

    func writeKeyFile() throws {
        var random = SystemRandomNumberGenerator()
        let hex = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined()
        try (hex + "\n").write(toFile: keyFile, atomically: true, encoding: .utf8)
    }

    struct Measured {
        var result: GatewaySetupResult
        var cluster: ClusterFigures?
    }

    /// The target processes of one setup, all stopped before `measure` returns or throws.
    final class Targets {
        var children: [GatewayBenchChild] = []
        /// HTTP ports, node 1 (the one wrk calls) first.
        var httpPorts: [Int] = []

        /// Stops every child at once; returns how each ended.
        func stopAll() async -> [String] {
            let children = self.children
            await withTaskGroup(of: Void.self) { group in
                for child in children { group.addTask { await child.stop() } }
            }
            return children.map { "\($0.label): \($0.ended?.status ?? "still running after SIGKILL")" }
        }
    }

    func measure(_ setup: GatewaySetup) async throws -> Measured {
        let targets = Targets()
        do {
            var measured = try await measure(setup, targets: targets)
            measured.result.exits = await targets.stopAll()
            return measured
        } catch {
            let logs = targets.children.map { "--- \($0.label), last lines of its output:\n\($0.logTail())" }
            _ = await targets.stopAll()
            throw GatewayBenchFailure(([ "\(setup.rawValue): \(error)" ] + logs).joined(separator: "\n"))
        }
    }

    private func measure(_ setup: GatewaySetup, targets: Targets) async throws -> Measured {
        try await start(setup, targets: targets)
        let port = targets.httpPorts[0]
        let call = setup.call
        if setup != .bare {
            // One call through the route wrk will load: a wrong setup fails here, not as a
            // wall of non-2xx answers.
            let reply = try await GatewayBenchHTTP.request(port: port, method: .post, path: "/v1/actors/counter/k0/\(call.rawValue)", body: call.body)
            guard reply.status == 200 else {
                throw GatewayBenchFailure("POST /v1/actors/counter/k0/\(call.rawValue) answered \(reply.status): \(reply.body)")
            }
        }
        let script = try load.writeScript(call)
        log("\(setup.rawValue): warm-up \(BenchGatewayCommand.warmupSeconds) s")
        _ = try await load.run(script: script, port: port, seconds: BenchGatewayCommand.warmupSeconds)

        let metricsBefore = setup == .cluster3Read ? try? await GatewayBenchHTTP.request(port: port, method: .get, path: "/metrics").body : nil
        let pids = targets.children.map(\.pid)
        let cpuBefore = pids.map { ProcessCPU.seconds(of: $0) }.reduce(0, +)
        log("\(setup.rawValue): measuring \(duration) s")
        let summary = try await load.run(script: script, port: port, seconds: duration)
        let cpuUsed = pids.map { ProcessCPU.seconds(of: $0) }.reduce(0, +) - cpuBefore
        let metricsAfter = setup == .bare ? nil : try? await GatewayBenchHTTP.request(port: port, method: .get, path: "/metrics").body

        var cluster: ClusterFigures?
        if setup == .cluster3Read {
            var figures = ClusterFigures()
            if let before = metricsBefore, let after = metricsAfter {
                let forwards = PrometheusText.sum(after, "locality_routing_forwards") - PrometheusText.sum(before, "locality_routing_forwards")
                let calls = PrometheusText.sum(after, "locality_gateway_requests_total", containing: "route=\"actor\"")
                    - PrometheusText.sum(before, "locality_gateway_requests_total", containing: "route=\"actor\"")
                if calls > 0 { figures.measuredShare = forwards / calls }
            }
            figures.ringShare = try? await ringForwardedShare(port: port, nodeName: nodeName(0))
            cluster = figures
        }

        let e = summary.errors
        let result = GatewaySetupResult(
            rps: summary.okPerSecond.rounded(),
            p50Ms: Self.milliseconds(summary.latencyUs.p50),
            p99Ms: Self.milliseconds(summary.latencyUs.p99),
            p999Ms: Self.milliseconds(summary.latencyUs.p999),
            maxMs: Self.milliseconds(summary.latencyUs.max),
            errors: e.total,
            errorsByKind: ["connect": e.connect, "read": e.read, "write": e.write, "status": e.status, "timeout": e.timeout],
            requests: summary.requests,
            durationSeconds: (summary.durationUs / 1e4).rounded() / 100,
            call: call.rawValue,
            store: setup.storeKind,
            nodes: setup.nodes,
            serverCPUSeconds: (cpuUsed * 100).rounded() / 100,
            requestsPerCPUSecond: cpuUsed > 0 ? (Double(summary.requests - e.status) / cpuUsed).rounded() : nil,
            gatewayStatuses: metricsAfter.map { PrometheusText.actorStatuses($0) },
            exits: []
        )
        return Measured(result: result, cluster: cluster)
    }

    static func milliseconds(_ microseconds: Double) -> Double { (microseconds / 10).rounded() / 100 }

    func nodeName(_ index: Int) -> String { "bench-gw\(index + 1)" }

    /// Starts the setup's processes and returns once every one answers.
    private func start(_ setup: GatewaySetup, targets: Targets) async throws {
        let pinCPU = tasksetPath == nil ? nil : 0
        if setup == .bare {
            let ports = try await LoopbackPorts.free(1)
            guard let port = ports.first else { throw GatewayBenchFailure("no free loopback port") }
            targets.children.append(try await GatewayBenchChild.start(
                label: "bare-http", executable: executable,
                arguments: ["bench", "bare-http", "--port", String(port), "--exit-on-stdin-eof"],
                pinTo: pinCPU, tasksetPath: tasksetPath, logPath: directory + "/bare.log"))
            targets.httpPorts = [port]
            try await waitUntil("bare-http answers /readyz", targets: targets) {
                (try? await GatewayBenchHTTP.request(port: port, method: .get, path: "/readyz", timeout: .seconds(2)).status) == 200
            }
            return
        }
        let count = setup.nodes
        let ports = try await LoopbackPorts.free(count * 3)
        guard ports.count == count * 3 else { throw GatewayBenchFailure("could not find \(count * 3) free loopback ports") }
        guard let store = setup.store(directory: directory) else { throw GatewayBenchFailure("\(setup.rawValue) has no store") }
        for index in 0..<count {
            let (gossip, transport, http) = (ports[index * 3], ports[index * 3 + 1], ports[index * 3 + 2])
            let name = nodeName(index)
            var arguments = [
                "node", "--name", name, "--bind", "127.0.0.1:\(gossip)", "--transport", "127.0.0.1:\(transport)",
                "--http", "127.0.0.1:\(http)", "--cluster-key-file", keyFile, "--store", store,
                "--data-dir", directory + "/\(setup.rawValue)-\(name)", "--log-level", "warning", "--exit-on-stdin-eof",
            ]
            if index > 0 { arguments += ["--seeds", "127.0.0.1:\(ports[0])"] }
            targets.children.append(try await GatewayBenchChild.start(
                label: "\(setup.rawValue)/\(name)", executable: executable, arguments: arguments,
                pinTo: pinCPU, tasksetPath: tasksetPath, logPath: directory + "/\(setup.rawValue)-\(name).log"))
            targets.httpPorts.append(http)
        }
        for (index, port) in targets.httpPorts.enumerated() {
            try await waitUntil("\(nodeName(index)) answers /readyz", targets: targets) {
                (try? await GatewayBenchHTTP.request(port: port, method: .get, path: "/readyz", timeout: .seconds(2)).status) == 200
            }
        }
        guard count > 1 else { return }
        // Every node sees all members on one ring (equal checksums): then node 1 forwards
        // two thirds of the keys, and the owners accept them.
        let httpPorts = targets.httpPorts
        try await waitUntil("the \(count) nodes agree on a ring of \(count) members", targets: targets) {
            var checksums: Set<String> = []
            for port in httpPorts {
                guard let reply = try? await GatewayBenchHTTP.request(port: port, method: .get, path: "/v1/cluster/ring", timeout: .seconds(2)),
                      reply.status == 200,
                      let object = try? JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any],
                      let members = object["members"] as? [Any], members.count == count
                else { return false }
                checksums.insert("\(object["checksum"] ?? "")")
            }
            return checksums.count == 1
        }
    }

    /// Polls `condition` every 100 ms until it holds; throws when a target exited or after
    /// `BenchGatewayCommand.readyTimeout`.
    private func waitUntil(_ what: String, targets: Targets, _ condition: () async -> Bool) async throws {
        let limit = ContinuousClock.now + BenchGatewayCommand.readyTimeout
        while true {
            if await condition() { return }
            if let gone = targets.children.first(where: { !$0.isRunning }) {
                throw GatewayBenchFailure("\(gone.label) exited before \(what) (\(gone.ended?.status ?? "exited"))")
            }
            guard ContinuousClock.now < limit else { throw GatewayBenchFailure("\(what): not within \(BenchGatewayCommand.readyTimeout)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Share of the keys wrk uses (all of them, or 1,000 spread evenly when there are more)
    /// whose owner on node 1's ring is another node, from `GET /v1/cluster/lookup`.
    private func ringForwardedShare(port: Int, nodeName: String) async throws -> Double? {
        let samples = min(load.keys, 1_000)
        var others = 0
        var answered = 0
        for sample in 0..<samples {
            let key = sample * load.keys / samples
            let reply = try await GatewayBenchHTTP.request(port: port, method: .get, path: "/v1/cluster/lookup?key=counter/k\(key)", timeout: .seconds(5))
            guard reply.status == 200,
                  let object = try? JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any],
                  let owner = object["owner"] as? [String: Any], let name = owner["name"] as? String
            else { continue }
            answered += 1
            if name != nodeName { others += 1 }
        }
        return answered > 0 ? Double(others) / Double(answered) : nil
    }
}

/// Why `bench gateway` stopped (printed as `Error: …`, without the usage text).
struct GatewayBenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One-shot HTTP/1.1 requests to a target on 127.0.0.1 (readiness, probes, metrics,
/// lookups): a blocking socket per request with `Connection: close` and send/receive
/// timeouts, so nothing here waits without bound and nothing depends on the client
/// libraries the benchmark is not about.
enum GatewayBenchHTTP {
    struct Reply {
        var status: Int
        var body: String
    }

    enum Method: String { case get = "GET", post = "POST" }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func request(port: Int, method: Method, path: String, body: String? = nil, timeout: Duration = .seconds(10)) async throws -> Reply {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        if limit.tv_sec == 0 { limit.tv_usec = 500_000 }
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect 127.0.0.1:\(port): errno \(errno)") }
        let payload = Array((body ?? "").utf8)
        var head = "\(method.rawValue) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if body != nil { head += "Content-Type: application/json\r\nContent-Length: \(payload.count)\r\n" }
        let request = Array((head + "\r\n").utf8) + payload
        var sent = 0
        while sent < request.count {
            let written = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw Failure(description: "send: errno \(errno)") }
            sent += written
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while received.count < 64 << 20 {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            guard count > 0 else { throw Failure(description: "recv: errno \(errno)") }
            received.append(contentsOf: chunk[0..<count])
        }
        return try parse(received)
    }

    /// Status and body of a complete response (`Content-Length`, chunked or read to the end).
    static func parse(_ bytes: [UInt8]) throws -> Reply {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let split = (0..<max(0, bytes.count - 3)).first(where: { bytes[$0..<$0 + 4].elementsEqual(separator) }) else {
            throw Failure(description: "incomplete response (\(bytes.count) bytes)")
        }
        let head = String(decoding: bytes[0..<split], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, let status = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
            throw Failure(description: "bad status line")
        }
        var body = Array(bytes[(split + 4)...])
        let chunked = lines.dropFirst().contains { $0.lowercased().hasPrefix("transfer-encoding:") && $0.lowercased().contains("chunked") }
        if chunked {
            var decoded: [UInt8] = []
            var index = 0
            while index < body.count {
                guard let end = (index..<max(index, body.count - 1)).first(where: { body[$0] == 13 && body[$0 + 1] == 10 }),
                      let size = Int(String(decoding: body[index..<end], as: UTF8.self).split(separator: ";").first ?? "", radix: 16)
                else { break }
                if size == 0 { break }
                let start = end + 2
                guard start + size <= body.count else { break }
                decoded.append(contentsOf: body[start..<start + size])
                index = start + size + 2
            }
            body = decoded
        }
        return Reply(status: status, body: String(decoding: body, as: UTF8.self))
    }
}

/// Reads figures out of the Prometheus text format of `/metrics`.
enum PrometheusText {
    /// The sum of every sample of `name` (any labels) whose line contains `containing`.
    static func sum(_ text: String, _ name: String, containing: String? = nil) -> Double {
        var total = 0.0
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            let rest = line.dropFirst(name.count)
            guard rest.first == "{" || rest.first == " " else { continue }
            if let containing, !line.contains(containing) { continue }
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { total += value }
        }
        return total
    }

    /// Actor-route answers by status: `locality_gateway_requests_total{route="actor",status="…"}`.
    static func actorStatuses(_ text: String) -> [String: Int] {
        var statuses: [String: Int] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("locality_gateway_requests_total{") && line.contains("route=\"actor\"") {
            guard let start = line.range(of: "status=\"") else { continue }
            let status = line[start.upperBound...].prefix { $0 != "\"" }
            guard let value = line.split(separator: " ").last.flatMap({ Double($0) }), value > 0 else { continue }
            statuses[String(status), default: 0] += Int(value)
        }
        return statuses
    }
}
