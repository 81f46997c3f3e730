import Foundation
import LocalityClient
import LocalityCore
import Testing

/// `LocalityClient` against real `locality node` processes: it learns each actor's owner
/// from the answers and then calls owners directly; an unreachable owner is forgotten.
@Suite("LocalityClient on a 3-node cluster", .serialized)
struct LocalityClientTests {
    @Test("after one call per actor, every call goes straight to the owner; a dead owner is skipped", .timeLimit(.minutes(3)))
    func callsOwnersDirectly() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("locality-client-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let cluster = try await ActorProcessCluster.start(count: 3, store: { _ in "sqlite:\(path)" })
        defer { cluster.processes.killAll() }
        let formed = await cluster.waitForMembers(cluster.names, seconds: 30)
        try #require(formed, "cluster did not form:\n\(cluster.logs())")

        // One seed only: the client learns the other gateways from the answers.
        let seed = "127.0.0.1:\(try #require(cluster.httpPorts["n1"]))"
        let client = try LocalityClient(nodes: [seed])
        let actors = 90
        for round in 1...2 {
            for index in 0..<actors {
                let reply = try await client.call("counter", "c\(index)", "increment", arguments: Array(#"{"by":1}"#.utf8))
                #expect(String(decoding: reply, as: UTF8.self) == "\(round)")
            }
        }
        let afterTwoRounds = client.statistics
        // Round 1 learned the owners (a third answered by n1 as owner); round 2 went direct.
        #expect(afterTwoRounds.answeredByOwner >= actors, "\(afterTwoRounds)")
        #expect(afterTwoRounds.answeredElsewhere <= actors, "\(afterTwoRounds)")
        let owners = Set((0..<actors).compactMap { client.rememberedOwner("counter", "c\($0)") })
        #expect(owners.count == 3, "owners learned: \(owners)")

        // Errors keep their code.
        do {
            _ = try await client.call("counter", "c0", "increment", arguments: Array(#"{"by":"x"}"#.utf8))
            Issue.record("no error")
        } catch let error as LocalityClientError {
            #expect(error.status == 400 && error.code == "bad_request", "\(error)")
        }

        // SIGKILL n3: its actors' remembered owner is unreachable; calls under an
        // idempotency key move to n1 and succeed once membership moved the keys.
        let n3 = "127.0.0.1:\(try #require(cluster.httpPorts["n3"]))"
        let onN3 = (0..<actors).filter { client.rememberedOwner("counter", "c\($0)") == n3 }
        try #require(!onN3.isEmpty)
        cluster.processes.signal("n3", SIGKILL)
        for index in onN3 {
            var total: String?
            for _ in 0..<40 where total == nil {
                do {
                    total = String(decoding: try await client.call(
                        "counter", "c\(index)", "increment", arguments: Array(#"{"by":1}"#.utf8), idempotencyKey: "after-kill-\(index)"), as: UTF8.self)
                } catch {
                    try await Task.sleep(for: .milliseconds(250))
                }
            }
            #expect(total == "3", "c\(index): \(total ?? "no answer")")
            #expect(client.rememberedOwner("counter", "c\(index)") != n3)
        }
        #expect(client.statistics.retries >= 1)
        await client.close()
        cluster.processes.removeDirectory()
    }
}
