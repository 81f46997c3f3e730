import Foundation
import LocalityClient
import NIOCore
import NIOHTTP1

/// `cluster3_direct`: the load of an owner-aware client (docs/gateway.md, "Calling the
/// owner directly"). Each key's owner is learned once from the `Locality-Owner` header of
/// a call, the keys are partitioned by owner, and one wrk per node calls it with its own
/// keys only, all at once, the connections split in proportion to the keys.
extension GatewayBenchRunner {
    /// The keys one node owns and the wrk connections that call it with them.
    struct OwnerShare: Sendable {
        var node: Int
        var port: Int
        var keyNumbers: [Int]
        var connections = 0
    }

    func measureDirect(_ setup: GatewaySetup, targets: GatewayBenchTargets) async throws -> Measured {
        let call = setup.call
        let learning = ContinuousClock.now
        var shares = try await learnOwners(ports: targets.httpPorts, call: call)
        let (whole, fraction) = (ContinuousClock.now - learning).components
        let learnedIn = String(format: "%.1f s", Double(whole) + Double(fraction) / 1e18)
        let split = Self.split(load.connections, weights: shares.map(\.keyNumbers.count))
        for index in shares.indices { shares[index].connections = split[index] }
        log("\(setup.rawValue): owners of \(load.keys) keys learned in \(learnedIn): "
            + shares.map { "\(nodeName($0.node)) \($0.keyNumbers.count) keys, \($0.connections) connections" }.joined(separator: "; "))
        let scripts = try shares.map { share in
            try load.writeScript(call, only: share.keyNumbers, name: "\(call.rawValue)-\(nodeName(share.node))")
        }

        log("\(setup.rawValue): warm-up \(BenchGatewayCommand.warmupSeconds) s")
        _ = try await runEach(shares, scripts: scripts, seconds: BenchGatewayCommand.warmupSeconds)
        let metricsBefore = await metrics(targets.httpPorts)
        let cpuBefore = cpuSeconds(targets)
        log("\(setup.rawValue): measuring \(duration) s")
        let summaries = try await runEach(shares, scripts: scripts, seconds: duration)
        let cpuUsed = cpuSeconds(targets) - cpuBefore
        let metricsAfter = await metrics(targets.httpPorts)

        var cluster = ClusterFigures()
        if let before = metricsBefore, let after = metricsAfter {
            cluster.measuredShare = PrometheusText.forwardedShare(before: before, after: after)
        }
        var statuses: [String: Int] = [:]
        for text in metricsAfter ?? [] {
            statuses.merge(PrometheusText.actorStatuses(text), uniquingKeysWith: +)
        }
        let perNode = zip(shares, summaries).map { share, summary in
            DirectNodeFigures(
                node: nodeName(share.node), gateway: "127.0.0.1:\(share.port)", keys: share.keyNumbers.count,
                connections: share.connections, rps: summary.okPerSecond.rounded(),
                p50Ms: GatewaySetupResult.milliseconds(summary.latencyUs.p50),
                p99Ms: GatewaySetupResult.milliseconds(summary.latencyUs.p99),
                p999Ms: GatewaySetupResult.milliseconds(summary.latencyUs.p999),
                errors: summary.errors.total)
        }
        let result = makeResult(
            setup, rps: summaries.map(\.okPerSecond).reduce(0, +), summary: .merged(summaries), cpuUsed: cpuUsed,
            gatewayStatuses: metricsAfter == nil ? nil : statuses, perNode: perNode)
        return Measured(result: result, cluster: cluster)
    }

    /// Calls every key once (`POST /v1/actors/counter/k<i>/<method>`, 8 keep-alive
    /// connections spread over the nodes) and groups the keys by the node their 200 answer
    /// names in `Locality-Owner`. Every answer must carry the same `Locality-Ring`.
    func learnOwners(ports: [Int], call: WrkLoad.Call) async throws -> [OwnerShare] {
        let keys = load.keys
        let workers = min(8, keys)
        let learned = try await withThrowingTaskGroup(of: [(key: Int, owner: String, ring: String)].self) { group in
            for worker in 0..<workers {
                group.addTask {
                    let port = ports[worker % ports.count]
                    let connection = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port)
                    var found: [(key: Int, owner: String, ring: String)] = []
                    do {
                        for key in stride(from: worker, to: keys, by: workers) {
                            let path = "/v1/actors/counter/k\(key)/\(call.rawValue)"
                            let reply = try await connection.send(.POST, path, json: ByteBuffer(string: call.body))
                            guard reply.status == 200 else {
                                throw GatewayBenchFailure("POST \(path) on 127.0.0.1:\(port) answered \(reply.status): \(String(buffer: reply.body))")
                            }
                            guard let owner = reply.headers.first(name: "locality-owner") else {
                                throw GatewayBenchFailure("POST \(path) on 127.0.0.1:\(port) answered 200 without Locality-Owner")
                            }
                            found.append((key, owner, reply.headers.first(name: "locality-ring") ?? ""))
                        }
                    } catch {
                        await connection.close()
                        throw error
                    }
                    await connection.close()
                    return found
                }
            }
            var all: [(key: Int, owner: String, ring: String)] = []
            for try await part in group { all += part }
            return all
        }
        let rings = Set(learned.map(\.ring))
        guard rings.count == 1 else { throw GatewayBenchFailure("the answers named owners on \(rings.count) rings: \(rings.sorted())") }
        var byNode = [[Int]](repeating: [], count: ports.count)
        for (key, owner, _) in learned {
            guard let port = owner.split(separator: ":").last.flatMap({ Int($0) }), let node = ports.firstIndex(of: port) else {
                throw GatewayBenchFailure("Locality-Owner \(owner) (key k\(key)) is none of the nodes' gateways \(ports)")
            }
            byNode[node].append(key)
        }
        return byNode.indices.filter { !byNode[$0].isEmpty }.map { node in
            OwnerShare(node: node, port: ports[node], keyNumbers: byNode[node].sorted())
        }
    }

    /// `total` split in proportion to `weights` (largest remainder), at least 1 each.
    static func split(_ total: Int, weights: [Int]) -> [Int] {
        let rest = total - weights.count
        let sum = weights.reduce(0, +)
        guard rest > 0, sum > 0 else { return weights.map { _ in 1 } }
        let exact = weights.map { Double(rest) * Double($0) / Double(sum) }
        var shares = exact.map { 1 + Int($0) }
        let left = total - shares.reduce(0, +)
        let byRemainder = exact.indices.sorted { exact[$0] - exact[$0].rounded(.down) > exact[$1] - exact[$1].rounded(.down) }
        for index in byRemainder.prefix(left) { shares[index] += 1 }
        return shares
    }

    /// Runs one wrk per share at once, each at its node with its script and connections;
    /// the summaries in the order of `shares`.
    private func runEach(_ shares: [OwnerShare], scripts: [String], seconds: Int) async throws -> [WrkLoad.Summary] {
        let load = self.load
        return try await withThrowingTaskGroup(of: (Int, WrkLoad.Summary).self) { group in
            for (index, share) in shares.enumerated() {
                let script = scripts[index]
                group.addTask {
                    (index, try await load.run(script: script, port: share.port, seconds: seconds, connections: share.connections))
                }
            }
            var summaries = [WrkLoad.Summary?](repeating: nil, count: shares.count)
            for try await (index, summary) in group { summaries[index] = summary }
            return summaries.compactMap { $0 }
        }
    }

    /// Every node's `/metrics`, or nil when one did not answer.
    private func metrics(_ ports: [Int]) async -> [String]? {
        var texts: [String] = []
        for port in ports {
            guard let text = await GatewayBenchProbe.text(port: port, "/metrics") else { return nil }
            texts.append(text)
        }
        return texts
    }
}

extension WrkLoad.Summary {
    /// Several wrk processes' summaries as one: counts summed, the longest duration, the
    /// worst of each percentile (an upper bound of the percentile of all their requests
    /// together), the mean weighted by requests.
    static func merged(_ parts: [Self]) -> Self {
        let requests = parts.map(\.requests).reduce(0, +)
        func sum(_ field: KeyPath<Errors, Int>) -> Int { parts.map { $0.errors[keyPath: field] }.reduce(0, +) }
        func worst(_ field: KeyPath<Latency, Double>) -> Double { parts.map { $0.latencyUs[keyPath: field] }.max() ?? 0 }
        let mean = requests > 0 ? parts.map { $0.latencyUs.mean * Double($0.requests) }.reduce(0, +) / Double(requests) : 0
        return Self(
            requests: requests,
            durationUs: parts.map(\.durationUs).max() ?? 0,
            bytes: parts.map(\.bytes).reduce(0, +),
            errors: Errors(connect: sum(\.connect), read: sum(\.read), write: sum(\.write), status: sum(\.status), timeout: sum(\.timeout)),
            latencyUs: Latency(p50: worst(\.p50), p99: worst(\.p99), p999: worst(\.p999), max: worst(\.max), mean: mean))
    }
}
