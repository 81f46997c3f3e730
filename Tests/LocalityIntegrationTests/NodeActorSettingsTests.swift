import Foundation
import Testing

/// `locality node --max-activations` and `--idle-timeout-s` reach the actor runtime.
@Suite struct NodeActorSettingsTests {
    @Test("one node, --max-activations 5 --idle-timeout-s 1: at most 5 live counters, none once idle; state survives in memory store",
          .timeLimit(.minutes(2)))
    func capAndIdleTimeout() async throws {
        let processes = try NodeProcesses()
        defer { processes.killAll() }
        try #require(FileManager.default.isExecutableFile(atPath: processes.binary), "missing \(processes.binary)")
        let keyFile = try processes.writeKeyFile("cluster.key")
        let ports = try await NodeProcesses.freePorts(2)
        try #require(ports.count == 2)
        try processes.start(name: "solo", port: ports[0], seeds: [], keyFile: keyFile, extraArguments: [
            "--transport", "127.0.0.1:0", "--http", "127.0.0.1:\(ports[1])", "--store", "memory",
            "--max-activations", "5", "--idle-timeout-s", "1",
        ])
        let connections = HTTPConnections()
        defer { connections.closeAll() }
        let up = await connections.waitUntilReady(port: ports[1])
        try #require(up, "the node's gateway never became ready:\n\(processes.log("solo"))")

        for actor in 0..<10 {
            let reply = try await connections.post(port: ports[1], "/v1/actors/counter/k\(actor)/increment", "[\(actor)]")
            #expect(reply.status == 200 && reply.text == "\(actor)", "\(reply.status) \(reply.text)")
        }
        func liveCounters() async throws -> Int {
            let reply = try await connections.get(port: ports[1], "/v1/cluster/activations?kind=counter")
            let document = try JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any]
            return try #require(document?["count"] as? Int, "\(reply.text)")
        }
        let live = try await liveCounters()
        #expect(live >= 1 && live <= 5, "\(live) live counters with --max-activations 5")

        var idle = false
        for _ in 0..<100 where !idle {
            idle = try await liveCounters() == 0
            if !idle { try? await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(idle, "counters still active well past --idle-timeout-s 1")
        // Evicted and idle-collected counters come back from the store.
        let reply = try await connections.post(port: ports[1], "/v1/actors/counter/k7/increment", #"{"by":1}"#)
        #expect(reply.text == "8")

        processes.signal("solo", SIGTERM)
        #expect(await processes.waitForExit("solo", seconds: 30) == 0)
        processes.removeDirectory()
    }
}
