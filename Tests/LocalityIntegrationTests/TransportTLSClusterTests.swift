import Foundation
import Testing

/// Three real nodes with mutual TLS between them (`locality certs`, `--tls-cert`,
/// `--tls-key`, `--tls-ca`): forwarded actor calls work, and the nodes say they run TLS.
@Suite struct TransportTLSClusterTests {
    @Test("3 nodes on mutual TLS serve forwarded calls", .timeLimit(.minutes(3)))
    func forwardedCallsOverMutualTLS() async throws {
        let tools = try NodeProcesses()
        defer { tools.killAll(); tools.removeDirectory() }
        let certs = tools.directory.appendingPathComponent("certs").path
        let made = try await tools.runCommand(["certs", "--out", certs, "--nodes", "n1,n2,n3"], seconds: 30)
        try #require(made.status == 0, "locality certs failed: \(made.output)")
        let cluster = try await ActorProcessCluster.start(count: 3, store: { _ in "memory" }) { name in
            ["--tls-cert", "\(certs)/\(name).crt", "--tls-key", "\(certs)/\(name).key", "--tls-ca", "\(certs)/ca.pem"]
        }
        defer { cluster.processes.killAll() }
        let formed = await cluster.waitForMembers(cluster.names, seconds: 60)
        try #require(formed, "the TLS cluster did not form:\n\(cluster.logs())")

        let connections = HTTPConnections()
        defer { connections.closeAll() }
        let ports = cluster.names.compactMap { cluster.httpPorts[$0] }
        for index in 0..<30 {
            let reply = try await connections.post(port: ports[index % 3], "/v1/actors/counter/tls-\(index)/increment", #"{"by":1}"#)
            #expect(reply.status == 200, "\(reply.status) \(reply.text)\n\(cluster.logs())")
        }
        for index in 0..<30 {
            let reply = try await connections.post(port: ports[(index + 1) % 3], "/v1/actors/counter/tls-\(index)/value", "{}")
            #expect(reply.status == 200 && reply.text == "1", "tls-\(index): \(reply.status) \(reply.text)")
        }
        for name in cluster.names {
            #expect(!cluster.processes.log(name).contains("plain TCP"), "\(name) says it runs plain TCP")
        }
        await cluster.stopGracefully()
        cluster.processes.removeDirectory()
    }
}
