import Foundation
import LocalityClient
import LocalityCore
import NIOCore

/// Checks a bench server after a run: for every key, the state the system serves and the
/// state its store holds must agree, and the score must be what the acknowledged moves
/// add up to (`AckLedger.accepts`).
public struct StateVerifier: Sendable {
    public var port: Int
    public var connections: Int

    public init(port: Int, connections: Int = 16) {
        self.port = port
        self.connections = connections
    }

    /// What a verification found.
    public struct Verdict: Sendable, Equatable {
        public var keysChecked = 0
        /// Keys whose served or stored score is not what the ledger allows, or whose
        /// served and stored states differ.
        public var mismatches = 0
        /// Keys that could not be read.
        public var unreadable = 0
        /// The first few problems, for the report.
        public var examples: [String] = []

        public var correct: Bool { mismatches == 0 && unreadable == 0 && keysChecked > 0 }
    }

    public func verify(ledger: AckLedger) async throws -> Verdict {
        let keys = ledger.acknowledged.count
        let workers = max(1, min(connections, keys))
        let port = self.port
        return try await withThrowingTaskGroup(of: Verdict.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var verdict = Verdict()
                    var connection = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port)
                    var key = worker
                    while key < keys {
                        let name = WorkloadSettings.keyName(key)
                        let served = await Self.read(&connection, port: port, "/v1/sessions/\(name)")
                        let stored = await Self.read(&connection, port: port, "/v1/stored/\(name)")
                        verdict.keysChecked += 1
                        if let served, let stored {
                            if served != stored || !ledger.accepts(score: stored.score, key: key) {
                                verdict.mismatches += 1
                                if verdict.examples.count < 3 {
                                    verdict.examples.append("\(name): served \(served.score), stored \(stored.score), acknowledged \(ledger.acknowledged[key]) (+\(ledger.unknown[key]) unknown)")
                                }
                            }
                        } else {
                            verdict.unreadable += 1
                            if verdict.examples.count < 3 { verdict.examples.append("\(name): unreadable") }
                        }
                        key += workers
                    }
                    await connection.close()
                    return verdict
                }
            }
            var total = Verdict()
            for try await part in group {
                total.keysChecked += part.keysChecked
                total.mismatches += part.mismatches
                total.unreadable += part.unreadable
                total.examples += part.examples.prefix(max(0, 3 - total.examples.count))
            }
            return total
        }
    }

    /// Reads `path` (a GET: safe to repeat), up to `attempts` times, on a fresh connection
    /// after a failure: a reply lost to a stall of the machine is not a wrong state. Nil
    /// when every attempt failed.
    static func read(_ connection: inout HTTPClientConnection, port: Int, _ path: String, attempts: Int = 3) async -> SessionState? {
        for attempt in 1...attempts {
            if !connection.isActive || attempt > 1, let fresh = try? await HTTPClientConnection.connect(host: "127.0.0.1", port: port) {
                await connection.close()
                connection = fresh
            }
            if let state = try? await read(connection, path) { return state }
        }
        return nil
    }

    static func read(_ connection: HTTPClientConnection, _ path: String) async throws -> SessionState {
        let reply = try await connection.send(.GET, path)
        guard reply.status == 200 else { throw LocalityError(.unavailable, "GET \(path): \(reply.status)") }
        return try JSONDecoder().decode(SessionView.self, from: Data(buffer: reply.body)).state
    }
}
