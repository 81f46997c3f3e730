import Foundation
import LocalityCore
import LocalityLauncher
import Logging
import MetricsTestKit
import ServiceLifecycle
import Synchronization
import Testing
@testable import LocalityMembership

/// Key rotation without restarts (memberlist's procedure) on three loopback nodes, each
/// with its own key file and `ClusterKeyFileWatcher`, gossiping and answering members
/// queries throughout.
@Suite(.serialized, .timeLimit(.minutes(3))) struct KeyRotationTests {
    static let oldKey = String(repeating: "a1", count: 32)
    static let newKey = String(repeating: "b2", count: 32)

    /// Generous probe timing: a real failure is found within seconds, a loaded machine
    /// still does not time probes out.
    static var swim: SWIMSettings {
        var swim = SWIMSettings()
        swim.probeInterval = .milliseconds(500)
        swim.probeTimeout = .milliseconds(300)
        swim.gossipInterval = .milliseconds(100)
        swim.pushPullInterval = .seconds(2)
        return swim
    }

    static var shell: GossipSettings {
        var settings = GossipSettings()
        settings.leaveGracePeriod = .milliseconds(300)
        settings.joinRetryInterval = .milliseconds(300)
        return settings
    }

    struct Node {
        let name: String
        let membership: GossipMembership
        let watcher: ClusterKeyFileWatcher
        let keyFile: String
        let metrics: TestMetrics
        var group: ServiceGroup {
            ServiceGroup(configuration: .init(services: [.init(service: membership), .init(service: watcher)], logger: Logger(label: "test")))
        }
        func dropped(_ reason: String) -> Int64 {
            (try? metrics.expectCounter("locality_gossip_packets_dropped_total", [("reason", reason)]).totalValue) ?? 0
        }
    }

    static func makeNode(_ name: String, port: Int, seeds: [Int], keyText: String, directory: String) throws -> Node {
        let keyFile = "\(directory)/\(name).key"
        try keyText.write(toFile: keyFile, atomically: true, encoding: .utf8)
        let keys = SharedClusterKeyring(try ClusterKeyring(contentsOfFile: keyFile))
        let metrics = TestMetrics()
        let membership = try GossipMembership(
            name: name, address: NodeAddress(host: "127.0.0.1", port: port),
            seeds: seeds.map { NodeAddress(host: "127.0.0.1", port: $0) }, keys: keys, swim: swim, settings: shell,
            metricsFactory: metrics)
        let watcher = ClusterKeyFileWatcher(path: keyFile, keyring: keys, interval: .milliseconds(200), metricsFactory: metrics)
        return Node(name: name, membership: membership, watcher: watcher, keyFile: keyFile, metrics: metrics)
    }

    /// Polls `condition` every 50 ms for at most `seconds`.
    static func eventually(within seconds: Double, _ condition: () async -> Bool) async -> Bool {
        for _ in 0..<Int(seconds * 20) {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return await condition()
    }

    static func statuses(_ node: GossipMembership) async -> [String: MemberStatus] {
        Dictionary(await node.members().map { ($0.id.name, $0.status) }, uniquingKeysWith: { first, _ in first })
    }

    /// Rewrites every node's key file with `text`, one node at a time as a rolling
    /// rollout does: waits until the node reloaded it, then `hold` before the next node,
    /// so nodes disagree on the keys for that long.
    static func rollOut(_ text: String, to nodes: [Node], generation: UInt64, hold: Duration) async throws -> Bool {
        for node in nodes {
            try text.write(toFile: node.keyFile, atomically: true, encoding: .utf8)
            guard await eventually(within: 30, { node.membership.clusterKeys.generation == generation }) else { return false }
            try await Task.sleep(for: hold)
        }
        return true
    }

    @Test func threeNodesRotateUnderLoadWithoutFalseDeathsAndAStaleKeyNodeIsRefused() async throws {
        let directory = NSTemporaryDirectory() + "locality-rotation-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ports = try await LoopbackPorts.free(4)
        try #require(ports.count == 4)
        let nodes = try (0..<3).map { index in
            try Self.makeNode(
                "n\(index + 1)", port: ports[index], seeds: ports.prefix(3).filter { $0 != ports[index] },
                keyText: "# rotation step 0\n\(Self.oldKey)\n", directory: directory)
        }
        // Every status change any node publishes about another, for the whole test.
        let declaredDead = Tally<[String]>([])
        let suspected = Tally(0)
        let watchers = nodes.map { node in
            Task {
                for await case .statusChanged(let member, _) in node.membership.events() where member.id.name != node.name {
                    if member.status == .dead || member.status == .left {
                        declaredDead.withLock { $0.append("\(node.name) declared \(member.id.name) \(member.status)") }
                    }
                    if member.status == .suspect { suspected.withLock { $0 += 1 } }
                }
            }
        }
        defer { for watcher in watchers { watcher.cancel() } }
        let groups = nodes.map(\.group)

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for group in groups { tasks.addTask { try await group.run() } }
            defer { tasks.cancelAll() }
            let alive = ["n1": MemberStatus.alive, "n2": .alive, "n3": .alive]
            let converged = await Self.eventually(within: 30) {
                for node in nodes where await Self.statuses(node.membership) != alive { return false }
                return true
            }
            try #require(converged, "the three nodes did not converge before the rotation")

            // Load beside the gossip: members queries over TCP to every node, sealed with
            // the querying side's keys in force.
            let queries = Tally(0)
            let load = Task {
                while !Task.isCancelled {
                    for node in nodes {
                        if (try? await MembersQuery.fetch(
                            from: node.membership.address, keyring: node.membership.clusterKeys.current, timeout: .seconds(2))) != nil
                        {
                            queries.withLock { $0 += 1 }
                        }
                    }
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
            defer { load.cancel() }

            // 1) the new key as accepted everywhere; 2) the new key primary everywhere;
            // 3) the old key removed. Each state holds for a few probe rounds.
            // Step 2 is where primaries disagree: each node's stretch on the new primary
            // alone (6 s) is longer than probing takes to declare a member dead whose
            // packets cannot be opened (suspicion timeout 3 s after a failed probe).
            #expect(try await Self.rollOut("# step 1\n\(Self.oldKey)\n\(Self.newKey)\n", to: nodes, generation: 2, hold: .seconds(1)))
            let openedBeforeStep2 = nodes.map { (try? $0.metrics.expectCounter("locality_gossip_packets_accepted_key_total").totalValue) ?? 0 }
            #expect(try await Self.rollOut("# step 2\n\(Self.newKey)\n\(Self.oldKey)\n", to: nodes, generation: 3, hold: .seconds(6)))
            // While step 2 rolled out, nodes opened packets with the accepted key (peers still on the old primary).
            let openedAfterStep2 = nodes.map { (try? $0.metrics.expectCounter("locality_gossip_packets_accepted_key_total").totalValue) ?? 0 }
            #expect(zip(openedBeforeStep2, openedAfterStep2).contains { $0 < $1 })
            #expect(try await Self.rollOut("# step 3\n\(Self.newKey)\n", to: nodes, generation: 4, hold: .seconds(1)))
            try await Task.sleep(for: .seconds(3))
            for node in nodes {
                #expect(await Self.statuses(node.membership) == alive, "\(node.name) after the rotation")
                #expect(node.membership.clusterKeys.current.accepted == nil)
            }
            #expect(queries.withLock { $0 } > 0)
            load.cancel()

            // A node left with the old key only: its packets are dropped as bad_tag and it
            // never becomes a member; it sees no one either.
            let badTagBefore = nodes.map { $0.dropped("bad_tag") }
            let stale = try Self.makeNode(
                "stale", port: ports[3], seeds: Array(ports.prefix(3)), keyText: "\(Self.oldKey)\n", directory: directory)
            let staleGroup = stale.group
            tasks.addTask { try await staleGroup.run() }
            let refused = await Self.eventually(within: 30) {
                zip(nodes, badTagBefore).allSatisfy { node, before in node.dropped("bad_tag") > before }
            }
            #expect(refused, "the nodes did not count the stale node's packets as bad_tag")
            try await Task.sleep(for: .seconds(2))
            for node in nodes {
                #expect(await Self.statuses(node.membership)["stale"] == nil)
            }
            // The members cannot open its join, so they never answer it: it stays alone.
            #expect(await Self.statuses(stale.membership) == ["stale": .alive])

            let dead = declaredDead.withLock { $0 }
            #expect(dead.isEmpty, "false failures during the rotation: \(dead)")
            print("key rotation: \(queries.withLock { $0 }) members queries, \(suspected.withLock { $0 }) suspicions, "
                + "bad_tag during rotation \(zip(nodes, badTagBefore).map { "\($0.name)=\($1)" })")
            for group in groups + [staleGroup] { await group.triggerGracefulShutdown() }
        }
    }
}

/// A value shared by test tasks.
final class Tally<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    init(_ value: Value) { self.value = Mutex(value) }

    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result { value.withLock { body(&$0) } }
}
