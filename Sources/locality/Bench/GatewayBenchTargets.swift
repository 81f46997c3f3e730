import Foundation
import LocalityLauncher

/// The target processes of one `bench gateway` setup, all stopped before
/// `GatewayBenchRunner.measure` returns or throws.
final class GatewayBenchTargets {
    var children: [GatewayBenchChild] = []
    /// HTTP ports, node 1 (the one `cluster3_read` loads) first.
    var httpPorts: [Int] = []

    /// Stops every child at once; returns how each ended.
    func stopAll() async -> [String] {
        let children = self.children
        await withTaskGroup(of: Void.self) { group in
            for child in children { group.addTask { await child.stop() } }
        }
        return children.map { "\($0.label): \($0.ended?.status ?? "still running after SIGKILL")" }
    }
}

extension GatewayBenchRunner {
    /// Starts the setup's processes and returns once every one answers (and, for several
    /// nodes, once they agree on one ring of all of them).
    func start(_ setup: GatewaySetup, targets: GatewayBenchTargets) async throws {
        let pinCPU = tasksetPath == nil ? nil : 0
        if setup == .bare {
            let ports = try await LoopbackPorts.free(1)
            guard let port = ports.first else { throw GatewayBenchFailure("no free loopback port") }
            targets.children.append(try await GatewayBenchChild.start(
                label: "bare-http", executable: executable,
                arguments: ["bench", "bare-http", "--port", String(port), "--exit-on-stdin-eof"],
                pinTo: pinCPU, tasksetPath: tasksetPath, logPath: directory + "/bare.log"))
            targets.httpPorts = [port]
            try await waitUntil("bare-http answers /readyz", targets: targets) { await GatewayBenchProbe.ready(port: port) }
            return
        }
        let count = setup.nodes
        let ports = try await LoopbackPorts.free(count * 3)
        guard ports.count == count * 3 else { throw GatewayBenchFailure("could not find \(count * 3) free loopback ports") }
        guard let store = setup.store(directory: directory) else { throw GatewayBenchFailure("\(setup.rawValue) has no store") }
        for index in 0..<count {
            let (gossip, transport, http) = (ports[index * 3], ports[index * 3 + 1], ports[index * 3 + 2])
            let name = nodeName(index)
            var arguments = [
                "node", "--name", name, "--bind", "127.0.0.1:\(gossip)", "--transport", "127.0.0.1:\(transport)",
                "--http", "127.0.0.1:\(http)", "--cluster-key-file", keyFile, "--store", store,
                "--data-dir", directory + "/\(setup.rawValue)-\(name)", "--log-level", "warning", "--exit-on-stdin-eof",
            ]
            if index > 0 { arguments += ["--seeds", "127.0.0.1:\(ports[0])"] }
            targets.children.append(try await GatewayBenchChild.start(
                label: "\(setup.rawValue)/\(name)", executable: nodeExecutable, arguments: arguments,
                pinTo: pinCPU, tasksetPath: tasksetPath, logPath: directory + "/\(setup.rawValue)-\(name).log"))
            targets.httpPorts.append(http)
        }
        for (index, port) in targets.httpPorts.enumerated() {
            try await waitUntil("\(nodeName(index)) answers /readyz", targets: targets) { await GatewayBenchProbe.ready(port: port) }
        }
        guard count > 1 else { return }
        // Every node sees all members on one ring (equal checksums): then node 1 forwards
        // two thirds of the keys, the owners accept them, and every node names the same
        // owner in Locality-Owner.
        let httpPorts = targets.httpPorts
        try await waitUntil("the \(count) nodes agree on a ring of \(count) members", targets: targets) {
            var checksums: Set<String> = []
            for port in httpPorts {
                guard let object = await GatewayBenchProbe.object(port: port, "/v1/cluster/ring", timeout: .seconds(2)),
                      let members = object["members"] as? [Any], members.count == count
                else { return false }
                checksums.insert("\(object["checksum"] ?? "")")
            }
            return checksums.count == 1
        }
    }

    /// Polls `condition` every 100 ms until it holds; throws when a target exited or after
    /// `BenchGatewayCommand.readyTimeout`.
    func waitUntil(_ what: String, targets: GatewayBenchTargets, _ condition: () async -> Bool) async throws {
        let limit = ContinuousClock.now + BenchGatewayCommand.readyTimeout
        while true {
            if await condition() { return }
            if let gone = targets.children.first(where: { !$0.isRunning }) {
                throw GatewayBenchFailure("\(gone.label) exited before \(what) (\(gone.ended?.status ?? "exited"))")
            }
            guard ContinuousClock.now < limit else { throw GatewayBenchFailure("\(what): not within \(BenchGatewayCommand.readyTimeout)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
