import Foundation
import Testing

/// A packet capture (tcpdump on loopback) of three real nodes running mutual TLS between
/// them and encrypted gossip: neither an actor key sent through the gateways nor a
/// gossiped metadata value appears in the bytes on the transport and gossip ports, while
/// the same capture of the plain-HTTP gateway port does show the key (the check can fail).
/// Needs root and tcpdump (CI has both: scripts/test installs tcpdump).
@Suite(.enabled(if: geteuid() == 0, "packet capture needs root"))
struct WireCaptureTests {
    static let tcpdump = ["/usr/bin/tcpdump", "/usr/sbin/tcpdump"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test("no plaintext actor keys or gossip metadata on the wire", .timeLimit(.minutes(3)))
    func nothingPlainOnTheWire() async throws {
        let tcpdump = try #require(Self.tcpdump, "tcpdump is missing (scripts/test installs it when run as root)")
        let tools = try NodeProcesses()
        defer { tools.killAll(); tools.removeDirectory() }
        let certs = tools.directory.appendingPathComponent("certs").path
        let made = try await tools.runCommand(["certs", "--out", certs, "--nodes", "n1,n2,n3"], seconds: 30)
        try #require(made.status == 0, "locality certs failed: \(made.output)")
        let marker = "WIREMARK\(UInt32.random(in: 100_000...999_999))"
        // Gossip ports, transport ports, HTTP ports; the capture starts before the nodes
        // do, so the joins (member records with their metadata) are on it.
        let ports = try await NodeProcesses.freePorts(9)
        try #require(ports.count == 9)
        let gatewayPort = ports[6]
        let wire = tools.directory.appendingPathComponent("internal.pcap").path
        let gateway = tools.directory.appendingPathComponent("gateway.pcap").path
        let internalCapture = try Capture.start(tcpdump, file: wire, ports: Array(ports[0..<6]))
        let gatewayCapture = try Capture.start(tcpdump, file: gateway, ports: [gatewayPort])
        try await Task.sleep(for: .seconds(1))
        let cluster = try await ActorProcessCluster.start(count: 3, store: { _ in "memory" }, ports: ports) { name in
            ["--tls-cert", "\(certs)/\(name).crt", "--tls-key", "\(certs)/\(name).key", "--tls-ca", "\(certs)/ca.pem",
             "--metadata", "secret=\(marker)-gossip"]
        }
        defer { cluster.processes.killAll() }
        let formed = await cluster.waitForMembers(cluster.names, seconds: 60)
        try #require(formed, "the cluster did not form:\n\(cluster.logs())")

        let connections = HTTPConnections()
        defer { connections.closeAll() }
        for index in 0..<30 {
            let reply = try await connections.post(port: gatewayPort, "/v1/actors/counter/\(marker)-\(index)/increment", #"{"by":1}"#)
            #expect(reply.status == 200, "\(reply.status) \(reply.text)")
        }
        try await Task.sleep(for: .seconds(1))
        let internalBytes = try await internalCapture.stop()
        let gatewayBytes = try await gatewayCapture.stop()

        #expect(internalBytes.count > 10_000, "the capture holds only \(internalBytes.count) bytes")
        #expect(gatewayBytes.range(of: Data("\(marker)-".utf8)) != nil, "the gateway capture misses the plain HTTP key")
        #expect(internalBytes.range(of: Data(marker.utf8)) == nil, "an actor key or gossip metadata crossed a node port in clear")
        await cluster.stopGracefully()
        cluster.processes.removeDirectory()
    }
}

/// tcpdump writing whole packets on loopback for some TCP and UDP ports to a file.
struct Capture {
    let process: Process
    let file: String

    static func start(_ tcpdump: String, file: String, ports: [Int]) throws -> Capture {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tcpdump)
        process.arguments = ["-i", "lo", "-U", "-s", "0", "-w", file, ports.map { "port \($0)" }.joined(separator: " or ")]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return Capture(process: process, file: file)
    }

    /// Stops tcpdump (SIGINT, then SIGKILL after 10 s) and returns the file's bytes.
    func stop() async throws -> Data {
        process.interrupt()
        for _ in 0..<200 where process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        return try Data(contentsOf: URL(fileURLWithPath: file))
    }
}
