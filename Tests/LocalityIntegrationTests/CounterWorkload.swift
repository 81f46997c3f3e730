import Foundation
import Synchronization

/// The HTTP ports a client may use; the kill test removes the killed node's.
final class LivePorts: Sendable {
    private let ports: Mutex<[Int]>

    init(_ ports: [Int]) {
        self.ports = Mutex(ports)
    }

    var current: [Int] { ports.withLock { $0 } }

    func remove(_ port: Int) {
        ports.withLock { $0.removeAll { $0 == port } }
    }
}

/// Drives `Counter` actors over the HTTP gateways: `rounds` increments of each of
/// `actors` counters (`c0`…), round after round, each through the gateway of a random
/// live node, `concurrency` requests in flight over keep-alive connections.
struct CounterWorkload {
    /// Error codes after which the client tries the increment again (on a random node):
    /// the call did not run (`unavailable`, `not_owner`, `overloaded`, `conflict`,
    /// `storage_unavailable`) or its outcome is unknown (`deadline_exceeded`,
    /// `outcome_unknown`, a lost connection): this client retries at least once on
    /// purpose, and the tests bound what it may store by what it attempted.
    static let retryableCodes: Set<String> = [
        "unavailable", "not_owner", "overloaded", "deadline_exceeded", "outcome_unknown", "storage_unavailable", "conflict", "cancelled",
    ]

    var actors: Int
    var rounds: Int
    var concurrency: Int = 64
    /// Attempts per increment (1: no retry).
    var maxAttempts: Int = 1
    /// Per-request timeout of the client.
    var requestTimeout: Duration = .seconds(20)

    struct Outcome {
        let tally: CounterTally
        let seconds: Double
        var requests: Int { tally.attempted.reduce(0, +) }
        var acked: Int { tally.acked.reduce(0, +) }
    }

    /// Runs every increment; `queue.taken` tells how far it got (for a kill mid-run).
    func run(ports: LivePorts, queue: WorkQueue) async -> Outcome {
        let tally = CounterTally(actors: actors)
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask { await worker(ports: ports, queue: queue, tally: tally) }
            }
        }
        return Outcome(tally: tally, seconds: (ContinuousClock.now - start) / .seconds(1))
    }

    private func worker(ports: LivePorts, queue: WorkQueue, tally: CounterTally) async {
        let connections = HTTPConnections()
        var attempted = Array(repeating: 0, count: actors)
        var acked = Array(repeating: 0, count: actors)
        var errors: [String: Int] = [:]
        while let item = queue.take() {
            let actor = item % actors
            for attempt in 1...maxAttempts {
                guard let port = ports.current.randomElement() else { break }
                attempted[actor] += 1
                let label: String
                let retryable: Bool
                do {
                    let reply = try await connections.post(
                        port: port, "/v1/actors/counter/c\(actor)/increment", #"{"by":1}"#, timeout: requestTimeout)
                    if reply.status == 200 {
                        acked[actor] += 1
                        break
                    }
                    let code = reply.errorCode ?? "?"
                    label = "\(reply.status) \(code)"
                    retryable = Self.retryableCodes.contains(code)
                } catch {
                    label = "connection failed"
                    retryable = true
                }
                errors[label, default: 0] += 1
                guard retryable, attempt < maxAttempts else { break }
                try? await Task.sleep(for: .milliseconds(20 * min(attempt, 10)))
            }
        }
        connections.closeAll()
        tally.add(attempted: attempted, acked: acked, errors: errors)
    }

    /// `value()` (memory) or `storedValue()` (the store) of every counter, through random
    /// live gateways; nil for a counter whose call failed.
    func read(_ method: String, ports: LivePorts) async -> [Int?] {
        let queue = WorkQueue(count: actors)
        let results = ReadResults(count: actors)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    let connections = HTTPConnections()
                    var found: [(Int, Int)] = []
                    while let actor = queue.take() {
                        for _ in 0..<maxAttempts {
                            guard let port = ports.current.randomElement(),
                                  let reply = try? await connections.post(port: port, "/v1/actors/counter/c\(actor)/\(method)", "{}", timeout: requestTimeout)
                            else { continue }
                            if reply.status == 200, let value = Int(reply.text) {
                                found.append((actor, value))
                                break
                            }
                        }
                    }
                    connections.closeAll()
                    results.add(found)
                }
            }
        }
        return results.values
    }
}

/// What the readers found, per counter.
final class ReadResults: Sendable {
    private let found: Mutex<[Int?]>

    init(count: Int) {
        found = Mutex(Array(repeating: nil, count: count))
    }

    func add(_ pairs: [(Int, Int)]) {
        found.withLock { found in for (actor, value) in pairs { found[actor] = value } }
    }

    var values: [Int?] { found.withLock { $0 } }
}
