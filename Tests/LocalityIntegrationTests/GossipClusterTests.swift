import Foundation
import LocalityCore
import LocalityMembership
import Testing

/// Five real `locality node` processes on loopback with the default SWIM settings.
@Suite struct GossipClusterTests {
    /// These nodes host actors in memory, with a transport on any free port.
    static let memoryActors = ["--store", "memory", "--transport", "127.0.0.1:0"]

    /// name → status as `node` sees it, or nil when the node does not answer.
    func view(of port: Int, keyring: ClusterKeyring) async -> [String: MemberStatus]? {
        guard let reply = try? await MembersQuery.fetch(
            from: NodeAddress(host: "127.0.0.1", port: port), keyring: keyring, timeout: .milliseconds(500))
        else { return nil }
        return Dictionary(reply.members.map { ($0.id.name, $0.status) }, uniquingKeysWith: { first, _ in first })
    }

    /// Polls every 100 ms until every port's view satisfies `accept`, at most `seconds`.
    /// Returns the seconds it took, or nil on timeout. `observe` sees every view read.
    func waitUntil(
        _ ports: [Int], keyring: ClusterKeyring, seconds: Double,
        observe: ([String: MemberStatus]) -> Void = { _ in },
        _ accept: ([String: MemberStatus]) -> Bool
    ) async -> Double? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(seconds) {
            var all = true
            for port in ports {
                guard let view = await view(of: port, keyring: keyring) else { all = false; continue }
                observe(view)
                if !accept(view) { all = false }
            }
            if all { return (ContinuousClock.now - start).seconds }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    @Test(.timeLimit(.minutes(2)))
    func killedNodeIsDeadLeavingNodeIsLeftAndAWrongKeyNodeNeverJoins() async throws {
        let cluster = try NodeProcesses()
        defer { cluster.killAll() }
        try #require(FileManager.default.isExecutableFile(atPath: cluster.binary),
                     "build the CLI first (swift build --build-tests) or set LOCALITY_BIN; missing \(cluster.binary)")
        let keyFile = try cluster.writeKeyFile("cluster.key")
        let wrongKeyFile = try cluster.writeKeyFile("wrong.key")
        let keyring = try ClusterKeyring(fileText: String(contentsOfFile: keyFile, encoding: .utf8))
        let ports = try await NodeProcesses.freePorts(6)
        try #require(ports.count == 6)
        let names = (1...5).map { "n\($0)" }
        for (index, name) in names.enumerated() {
            try cluster.start(
                name: name, port: ports[index], seeds: Array(ports.prefix(5)).filter { $0 != ports[index] }, keyFile: keyFile,
                extraArguments: ["--metadata", "zone=\(index % 2 == 0 ? "a" : "b")"] + Self.memoryActors)
        }
        try cluster.start(name: "intruder", port: ports[5], seeds: Array(ports.prefix(5)), keyFile: wrongKeyFile, extraArguments: Self.memoryActors)

        var intruderSeen = false
        let noteIntruder: ([String: MemberStatus]) -> Void = { view in if view["intruder"] != nil { intruderSeen = true } }

        // Up to one push-pull interval (30 s) past 15 s: a starved machine can lose gossip,
        // which anti-entropy then heals; convergence time is not what this test pins.
        let converged = await waitUntil(Array(ports.prefix(5)), keyring: keyring, seconds: 45, observe: noteIntruder) { view in
            names.allSatisfy { view[$0] == .alive }
        }
        #expect(converged != nil, "not all 5 nodes saw 5 alive; n1 log:\n\(cluster.log("n1"))")
        guard converged != nil else { return }

        // The operator's view through the CLI, as JSON.
        let cli = try await cluster.runCommand(["members", "--node", "127.0.0.1:\(ports[0])", "--cluster-key-file", keyFile, "--json"])
        #expect(cli.status == 0)
        let document = try JSONSerialization.jsonObject(with: Data(cli.output.utf8)) as? [String: Any]
        let listed = (document?["members"] as? [[String: Any]] ?? []).compactMap { member -> String? in
            guard let name = member["name"] as? String, member["status"] as? String == "alive" else { return nil }
            return name
        }
        #expect(listed.sorted() == names, "locality members --json printed:\n\(cli.output)")
        // Metadata: the transport address the node advertises, then the operator's pairs.
        let metadata = (document?["members"] as? [[String: Any]] ?? []).compactMap { $0["metadata"] as? String }
        #expect(metadata.allSatisfy { $0.hasPrefix("transport=127.0.0.1:") }, "\(metadata)")
        let zones = metadata.compactMap { $0.split(separator: ",").first { $0.hasPrefix("zone=") }.map(String.init) }
        #expect(zones.sorted() == ["zone=a", "zone=a", "zone=a", "zone=b", "zone=b"])

        cluster.signal("n5", SIGKILL)
        let dead = await waitUntil(Array(ports.prefix(4)), keyring: keyring, seconds: 30, observe: noteIntruder) { $0["n5"] == .dead }
        #expect(dead != nil, "survivors did not mark n5 dead; n1 log:\n\(cluster.log("n1"))")
        print("kill -9 n5 → all 4 survivors see dead after \(dead.map { String(format: "%.2f s", $0) } ?? "timeout")")

        var sawDeadForLeaver = false
        cluster.signal("n4", SIGTERM)
        let left = await waitUntil(Array(ports.prefix(3)), keyring: keyring, seconds: 10, observe: { view in
            noteIntruder(view)
            if view["n4"] == .dead { sawDeadForLeaver = true }
        }) { $0["n4"] == .left }
        #expect(left != nil, "survivors did not mark n4 left; n1 log:\n\(cluster.log("n1"))")
        #expect(!sawDeadForLeaver)
        #expect(await cluster.waitForExit("n4", seconds: 5) == 0, "n4 did not exit cleanly on SIGTERM:\n\(cluster.log("n4"))")
        print("SIGTERM n4 → all 3 survivors see left after \(left.map { String(format: "%.2f s", $0) } ?? "timeout")")

        // n5 restarts under the same name and port: a new process is a new member (new
        // uid); the survivors list it alive next to the dead old one, never revive the old.
        let oldN5 = try await MembersQuery.fetch(from: NodeAddress(host: "127.0.0.1", port: ports[0]), keyring: keyring)
            .members.first { $0.id.name == "n5" }?.id
        try cluster.start(name: "n5", port: ports[4], seeds: Array(ports.prefix(3)), keyFile: keyFile, extraArguments: Self.memoryActors, restart: true)
        let start = ContinuousClock.now
        var restarted = false
        while !restarted, ContinuousClock.now - start < .seconds(15) {
            restarted = true
            for port in ports.prefix(3) {
                let members = (try? await MembersQuery.fetch(
                    from: NodeAddress(host: "127.0.0.1", port: port), keyring: keyring, timeout: .milliseconds(500)))?.members ?? []
                let fives = members.filter { $0.id.name == "n5" }
                let newAlive = fives.contains { $0.id != oldN5 && $0.status == .alive }
                let oldDead = fives.contains { $0.id == oldN5 && $0.status == .dead }
                if !(newAlive && oldDead) { restarted = false }
            }
            if !restarted { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(oldN5 != nil)
        #expect(restarted, "survivors did not list the restarted n5 alive beside the dead one; n1 log:\n\(cluster.log("n1"))")

        #expect(!intruderSeen)
        let intruderView = await view(of: ports[5], keyring: try ClusterKeyring(fileText: String(contentsOfFile: wrongKeyFile, encoding: .utf8)))
        #expect(intruderView == ["intruder": .alive])
    }

    @Test func aNodeRefusesAShortKeyAndAMalformedBindAddress() async throws {
        let cluster = try NodeProcesses()
        defer { cluster.killAll() }
        try #require(FileManager.default.isExecutableFile(atPath: cluster.binary), "missing \(cluster.binary)")
        let shortKey = cluster.directory.appendingPathComponent("short.key").path
        try "00112233\n".write(toFile: shortKey, atomically: true, encoding: .utf8)
        let goodKey = try cluster.writeKeyFile("good.key")
        let short = try await cluster.runCommand(["node", "--name", "x", "--bind", "127.0.0.1:1", "--cluster-key-file", shortKey])
        #expect(short.status != 0)
        #expect(short.output.contains("cluster key must be 16"))
        let badBind = try await cluster.runCommand(["node", "--name", "x", "--bind", "nowhere", "--cluster-key-file", goodKey])
        #expect(badBind.status != 0)
        #expect(badBind.output.contains("configuration key 'bind' (flag --bind) = \"nowhere\": not host:port"), "\(badBind.output)")
    }
}
