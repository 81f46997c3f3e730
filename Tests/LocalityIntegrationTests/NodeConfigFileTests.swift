import Foundation
import LocalityServer
import Testing

/// `locality node --config FILE`: a file that sets every key starts a node, and the
/// environment and the flags override it, in a real process.
@Suite struct NodeConfigFileTests {
    @Test("a config file with every key; LOCALITY_METADATA overrides the file, --name overrides both",
          .timeLimit(.minutes(2)))
    func configFileEnvironmentAndFlags() async throws {
        let processes = try NodeProcesses()
        defer { processes.killAll() }
        try #require(FileManager.default.isExecutableFile(atPath: processes.binary), "missing \(processes.binary)")
        let keyFile = try processes.writeKeyFile("cluster.key")
        let ports = try await NodeProcesses.freePorts(2)
        try #require(ports.count == 2)
        let file = processes.directory.appendingPathComponent("node.yaml")
        try """
            # every key of NodeSettingKey.all but cluster-key (the file's key wins over it only when both are set)
            name: from-file
            bind: 127.0.0.1:\(ports[0])
            seeds: []
            cluster-key-file: \(keyFile)
            metadata: zone=file,rack=r1
            log-level: debug
            probe-interval-ms: 400
            probe-timeout-ms: 200
            gossip-interval-ms: 100
            suspicion-mult: 3
            transport: 127.0.0.1:0
            http: 127.0.0.1:\(ports[1])
            http-max-connections: 128
            http-idle-timeout-s: 20
            store: memory
            data-dir: \(processes.directory.appendingPathComponent("data").path)
            idle-timeout-s: 120
            max-activations: 1000
            placement: hash
            idempotency-window-s: 300
            idempotency-keys-per-actor: 64
            """.write(to: file, atomically: true, encoding: .utf8)
        try processes.startNode(
            name: "configured", arguments: ["--config", file.path, "--name", "from-flag"],
            environment: ["LOCALITY_METADATA": "zone=env,rack=r2"])

        let connections = HTTPConnections()
        defer { connections.closeAll() }
        let up = await connections.waitUntilReady(port: ports[1])
        try #require(up, "the configured node never became ready:\n\(processes.log("configured"))")
        let reply = try await connections.get(port: ports[1], "/v1/cluster/members")
        #expect(reply.status == 200)
        #expect(reply.text.contains("from-flag"), "\(reply.text)")
        #expect(!reply.text.contains("from-file"), "\(reply.text)")
        #expect(reply.text.contains(#""zone":"env""#) && reply.text.contains(#""rack":"r2""#), "\(reply.text)")
        #expect(!reply.text.contains(#""zone":"file""#), "\(reply.text)")
        // log-level debug from the file reached the logger.
        #expect(processes.log("configured").contains("debug"), "no debug line in the log")

        processes.signal("configured", SIGTERM)
        #expect(await processes.waitForExit("configured", seconds: 30) == 0)
        processes.removeDirectory()
    }

    @Test("a misspelled key in the config file stops the node with the key's name", .timeLimit(.minutes(1)))
    func unknownKeyStopsTheNode() async throws {
        let processes = try NodeProcesses()
        defer { processes.killAll() }
        let keyFile = try processes.writeKeyFile("cluster.key")
        let file = processes.directory.appendingPathComponent("typo.json")
        try #"{"name": "n1", "bind": "127.0.0.1:7999", "cluster-key-file": "\#(keyFile)", "probe-interval": 500}"#
            .write(to: file, atomically: true, encoding: .utf8)
        let result = try await processes.runCommand(["node", "--config", file.path], seconds: 20)
        #expect(result.status != 0)
        #expect(result.output.contains("unknown key 'probe-interval'"), "\(result.output)")
        processes.removeDirectory()
    }

    @Test("every configuration key is also a flag of `locality node`", .timeLimit(.minutes(1)))
    func everyKeyIsAFlag() async throws {
        let processes = try NodeProcesses()
        defer { processes.killAll(); processes.removeDirectory() }
        let help = try await processes.runCommand(["node", "--help"], seconds: 20)
        #expect(help.status == 0)
        for key in NodeSettingKey.all {
            #expect(help.output.contains("\(key.flag) "), "`locality node --help` has no \(key.flag)")
        }
    }
}
