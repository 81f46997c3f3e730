import Foundation
import LocalityCore
import LocalityMembership
import Synchronization
import Testing

/// Real `locality node` processes hosting actors: gossip, transport and HTTP gateway on
/// loopback ports from `LoopbackPorts`, each node with the `--store` the test gives it.
struct ActorProcessCluster {
    let processes: NodeProcesses
    let names: [String]
    let keyring: ClusterKeyring
    let gossipPorts: [String: Int]
    let httpPorts: [String: Int]
    let transportPorts: [String: Int]

    /// The node transport port of `name`.
    func transportPort(_ name: String) -> Int? { transportPorts[name] }

    /// Starts `count` nodes (`n1`…); `store(name)` is the node's `--store` value (nil: the
    /// default, SQLite in the node's data directory).
    /// `extra(name)` adds flags of the test's own to a node's command line; `ports` (gossip
    /// ports, then transport, then HTTP: `count * 3`) are picked here when nil.
    static func start(
        count: Int, store: (String) -> String?, ports given: [Int]? = nil, extra: (String) -> [String] = { _ in [] }
    ) async throws -> ActorProcessCluster {
        let processes = try NodeProcesses()
        try #require(FileManager.default.isExecutableFile(atPath: processes.binary),
                     "build the CLI first (swift build --build-tests) or set LOCALITY_BIN; missing \(processes.binary)")
        let keyFile = try processes.writeKeyFile("cluster.key")
        let keyring = try ClusterKeyring(fileText: String(contentsOfFile: keyFile, encoding: .utf8))
        var ports = given ?? []
        if given == nil { ports = try await NodeProcesses.freePorts(count * 3) }
        try #require(ports.count == count * 3, "not enough free loopback ports")
        let names = (1...count).map { "n\($0)" }
        var gossip: [String: Int] = [:]
        var http: [String: Int] = [:]
        var transport: [String: Int] = [:]
        for (index, name) in names.enumerated() {
            gossip[name] = ports[index]
            transport[name] = ports[count + index]
            http[name] = ports[2 * count + index]
        }
        for (index, name) in names.enumerated() {
            try processes.start(
                name: name, port: ports[index], seeds: Array(ports.prefix(count)).filter { $0 != ports[index] }, keyFile: keyFile,
                extraArguments: [
                    "--transport", "127.0.0.1:\(ports[count + index])", "--http", "127.0.0.1:\(ports[2 * count + index])",
                    "--data-dir", processes.directory.appendingPathComponent(name).path,
                    "--log-level", "notice",
                    // SWIM at test speed: a killed node leaves the ring within a few seconds.
                    "--probe-interval-ms", "300", "--probe-timeout-ms", "150",
                ] + (store(name).map { ["--store", $0] } ?? []) + extra(name))
        }
        return ActorProcessCluster(
            processes: processes, names: names, keyring: keyring, gossipPorts: gossip, httpPorts: http, transportPorts: transport)
    }

    /// Waits until every node in `live` sees exactly the nodes of `live` alive, and its
    /// gateway answers. Returns false after `seconds`.
    func waitForMembers(_ live: [String], seconds: Double) async -> Bool {
        let start = ContinuousClock.now
        let expected = Set(live)
        while ContinuousClock.now - start < .seconds(seconds) {
            var all = true
            for name in live {
                guard let port = gossipPorts[name],
                      let reply = try? await MembersQuery.fetch(
                        from: NodeAddress(host: "127.0.0.1", port: port), keyring: keyring, timeout: .milliseconds(500))
                else { all = false; break }
                let alive = Set(reply.members.filter { $0.status == .alive }.map(\.id.name))
                if alive != expected { all = false; break }
                guard let http = httpPorts[name], let health = try? await KeepAliveHTTP.connect(port: http) else { all = false; break }
                let ok = (try? await health.get("/healthz", timeout: .seconds(2)))?.status == 200
                health.close()
                if !ok { all = false; break }
            }
            // The ring feed follows the gossip view in the same process; give it a moment.
            if all {
                try? await Task.sleep(for: .milliseconds(500))
                return true
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    /// The counter keys active on `name`, from its gateway.
    func activeCounters(on name: String) async throws -> [String] {
        let connection = try await KeepAliveHTTP.connect(port: try #require(httpPorts[name]))
        defer { connection.close() }
        let reply = try await connection.get("/v1/cluster/activations?kind=counter&limit=10000")
        try #require(reply.status == 200, "activations on \(name): \(reply.status) \(reply.text)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any])
        #expect(document["truncated"] as? Bool == false)
        let listed = document["activations"] as? [[String: Any]] ?? []
        return listed.compactMap { $0["key"] as? String }
    }

    /// SIGTERM to the nodes `only` names (default all); expects each to exit 0 within `seconds`.
    func stopGracefully(only: [String]? = nil, seconds: Double = 30) async {
        let stopping = only ?? names
        for name in stopping where processes.isRunning(name) { processes.signal(name, SIGTERM) }
        for name in stopping {
            let status = await processes.waitForExit(name, seconds: seconds)
            #expect(status == 0, "\(name) exit status \(String(describing: status)); log:\n\(processes.log(name).suffix(3000))")
        }
        processes.killAll()
    }

    func logs() -> String {
        names.map { "== \($0)\n" + String(processes.log($0).suffix(4000)) }.joined(separator: "\n")
    }
}

/// Counts per actor, filled by many workers (each adds its own tallies once at the end).
final class CounterTally: Sendable {
    private struct Tallies {
        var attempted: [Int]
        var acked: [Int]
        var errors: [String: Int] = [:]
    }

    private let tallies: Mutex<Tallies>

    init(actors: Int) {
        tallies = Mutex(Tallies(attempted: Array(repeating: 0, count: actors), acked: Array(repeating: 0, count: actors)))
    }

    func add(attempted: [Int], acked: [Int], errors: [String: Int]) {
        tallies.withLock { tallies in
            for index in attempted.indices {
                tallies.attempted[index] += attempted[index]
                tallies.acked[index] += acked[index]
            }
            tallies.errors.merge(errors, uniquingKeysWith: +)
        }
    }

    var attempted: [Int] { tallies.withLock { $0.attempted } }
    var acked: [Int] { tallies.withLock { $0.acked } }
    var errors: [String: Int] { tallies.withLock { $0.errors } }
}

/// Hands out work items 0..<count to workers.
final class WorkQueue: Sendable {
    private let next = Atomic<Int>(0)
    let count: Int

    init(count: Int) {
        self.count = count
    }

    func take() -> Int? {
        let index = next.add(1, ordering: .relaxed).oldValue
        return index < count ? index : nil
    }

    var taken: Int { min(count, next.load(ordering: .relaxed)) }
}
