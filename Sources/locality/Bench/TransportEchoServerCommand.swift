import ArgumentParser
import Foundation
import LocalityCore
import LocalityTransport
import NIOCore
import NIOPosix

/// `locality transport-echo-server` (hidden): the far end of `bench transport`. Serves
/// echo calls on a loopback port, prints `ready <port>`, exits when stdin closes.
struct TransportEchoServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transport-echo-server",
        abstract: "Serve echo calls over the node transport (used by `bench transport`).",
        shouldDisplay: false
    )

    @Option(help: "Port to listen on (0 picks a free one).")
    var port: Int = 0

    @Option(help: "Environment variable holding the cluster key (hex).")
    var clusterKeyEnv: String = "LOCALITY_CLUSTER_KEY"

    @Option(help: "Directory of `locality certs` files: serve mutual TLS with its echo.crt/echo.key and ca.pem.")
    var tlsDirectory: String?

    struct Echo: TransportHandler {
        func handle(_ request: TransportRequest) async throws -> ByteBuffer { request.payload }
    }

    func run() async throws {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        guard let hex = ProcessInfo.processInfo.environment[clusterKeyEnv], let key = ClusterKeyHex.decode(hex) else {
            throw ValidationError("set \(clusterKeyEnv) to the cluster key in hex")
        }
        var settings = TransportSettings()
        settings.tls = tlsDirectory.map { TransportTLSSettings(directory: $0, node: "echo") }
        let transport = NodeTransport(
            identity: NodeID(name: "echo", uid: UInt64.random(in: 1...UInt64.max)), clusterKey: key, settings: settings, handler: Echo())
        let address = try await transport.bind(host: "127.0.0.1", port: port)
        FileHandle.standardOutput.write(Data("ready \(address.port)\n".utf8))
        // The parent closes our stdin when it is done (or dies).
        await StdinWatch.waitForEOF()
        await transport.shutdown()
    }
}

/// Hex encoding of a cluster key for passing it through the environment.
enum ClusterKeyHex {
    static func encode(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func decode(_ text: String) -> [UInt8]? {
        let characters = Array(text.utf8)
        guard characters.count % 2 == 0, !characters.isEmpty else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(characters.count / 2)
        var index = 0
        while index < characters.count {
            guard let byte = UInt8(String(decoding: characters[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
            index += 2
        }
        return bytes
    }
}

extension TransportTLSSettings {
    /// The files `locality certs` wrote into `directory` for `node`.
    init(directory: String, node: String) {
        self.init(certificatePath: "\(directory)/\(node).crt", privateKeyPath: "\(directory)/\(node).key", trustRootsPath: "\(directory)/ca.pem")
    }
}
