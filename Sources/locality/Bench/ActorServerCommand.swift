import ArgumentParser
import Foundation
import LocalityActors
import LocalityCore
import LocalityExamples
import LocalityRouting
import LocalityStorage
import LocalityTransport
import NIOCore
import NIOPosix

/// `locality actor-server` (hidden): the far end of `bench actors`. One node owning every
/// actor (a ring of itself), `PlayerStats` on an in-memory store; prints
/// `ready <port> <uid>`, exits when stdin closes.
struct ActorServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "actor-server",
        abstract: "Serve virtual-actor calls (used by `bench actors`).",
        shouldDisplay: false
    )

    @Option(help: "Port to listen on (0 picks a free one).")
    var port: Int = 0

    @Option(help: "Environment variable holding the cluster key (hex).")
    var clusterKeyEnv: String = "LOCALITY_CLUSTER_KEY"

    func run() async throws {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        guard let hex = ProcessInfo.processInfo.environment[clusterKeyEnv], let key = ClusterKeyHex.decode(hex) else {
            throw ValidationError("set \(clusterKeyEnv) to the cluster key in hex")
        }
        let id = NodeID(name: "actor-server", uid: UInt64.random(in: 1...UInt64.max))
        let node = try await ActorBenchNode.start(id: id, clusterKey: key, store: MemoryStateStore(), port: port, members: [:])
        FileHandle.standardOutput.write(Data("ready \(node.address.port) \(id.uid)\n".utf8))
        await StdinWatch.waitForEOF()
        await node.stop()
    }
}

/// A node for the actor benchmark: system + router + transport on loopback.
struct ActorBenchNode {
    let system: ClusterSystem
    let transport: NodeTransport
    let resolver: RingOwnerResolver
    let address: NodeAddress

    /// `members` empty: the node is the only member (it owns every actor).
    static func start(
        id: NodeID, clusterKey: [UInt8], store: any StateStore, port: Int, members: [NodeID: NodeAddress],
        settings: ActorSettings = ActorSettings()
    ) async throws -> ActorBenchNode {
        let system = ClusterSystem(node: id, settings: settings, stateStore: store)
        try PlayerStats.register(on: system)
        let resolver = RingOwnerResolver(members: members)
        let router = Router(local: id, resolver: resolver, addresses: resolver, handler: system.callHandler)
        var transportSettings = TransportSettings()
        transportSettings.maxInFlightPerConnection = 8192
        let transport = NodeTransport(identity: id, clusterKey: clusterKey, settings: transportSettings, handler: router)
        router.attach(transport)
        system.attach(router: router, resolver: resolver)
        let address = try await transport.bind(host: "127.0.0.1", port: port)
        if members.isEmpty { resolver.update([id: address]) }
        return ActorBenchNode(system: system, transport: transport, resolver: resolver, address: address)
    }

    func stop() async {
        await system.shutdown()
        await transport.shutdown()
    }
}
