import Foundation
import LocalityActors
import LocalityBench
import LocalityClient
import LocalityCore
import LocalityExamples
import LocalityStorage

/// Checks the acknowledged writes against what the cluster holds: every player's match
/// count in memory (through a gateway) and in the SQLite file must be at least the
/// matches acknowledged to the clients, and at most the matches attempted.
struct DemoVerifier {
    let httpPort: Int
    let databasePath: String

    /// What the check found.
    struct Outcome: Sendable {
        var acknowledged = 0
        var attempted = 0
        var inMemory = 0
        var stored = 0
        /// Players with fewer matches in memory or storage than acknowledged.
        var lostPlayers: [String] = []
        /// Players with more matches stored than attempted (writes from nowhere).
        var phantomPlayers: [String] = []
        /// Players whose totals could not be read.
        var unreadable: [String] = []

        var passed: Bool { lostPlayers.isEmpty && phantomPlayers.isEmpty && unreadable.isEmpty }
    }

    func verify(_ ledger: DemoLedger.State) async throws -> Outcome {
        let store = try await SQLiteStateStore.open(path: databasePath)
        do {
            let outcome = try await compare(ledger, store: store)
            try await store.close()
            return outcome
        } catch {
            try? await store.close()
            throw error
        }
    }

    private func compare(_ ledger: DemoLedger.State, store: SQLiteStateStore) async throws -> Outcome {
        var outcome = Outcome()
        var connection = try await HTTPClientConnection.connect(host: "127.0.0.1", port: httpPort)
        for player in ledger.acknowledged.indices where ledger.attempted[player] > 0 {
            let key = DemoWorkload.playerKey(player)
            let acknowledged = ledger.acknowledged[player]
            let attempted = ledger.attempted[player]
            outcome.acknowledged += acknowledged
            outcome.attempted += attempted
            var memory: Int?
            for _ in 0..<3 where memory == nil {
                if !connection.isActive { connection = try await HTTPClientConnection.connect(host: "127.0.0.1", port: httpPort) }
                if let reply = try? await connection.send(.POST, "/v1/actors/player/\(key)/current", json: .init(string: "{}"), timeout: .seconds(5)),
                   reply.status == 200,
                   let totals = try? JSONDecoder().decode(PlayerStats.Totals.self, from: Data(reply.body.readableBytesView)) {
                    memory = totals.matches
                }
            }
            let stored = try await store.read(StateKey(kind: PlayerStats.kind, id: key)).value
                .flatMap { try PersistentState<PlayerStats.Totals>.value(fromStored: $0)?.matches } ?? 0
            outcome.stored += stored
            guard let memory else {
                outcome.unreadable.append(key)
                continue
            }
            outcome.inMemory += memory
            if memory < acknowledged || stored < acknowledged { outcome.lostPlayers.append(key) }
            if stored > attempted || memory > attempted { outcome.phantomPlayers.append(key) }
        }
        await connection.close()
        return outcome
    }
}
