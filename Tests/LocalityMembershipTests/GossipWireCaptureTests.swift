import Foundation
import LocalityCore
import LocalityLauncher
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import Testing
@testable import LocalityMembership

/// What a real node puts on the wire: a listener posing as its seed records the join
/// frames, and the node's metadata (a marker) is not in them in clear.
@Suite(.timeLimit(.minutes(1))) struct GossipWireCaptureTests {
    /// Records every byte each accepted connection sends, per connection.
    final class Recorder: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let connections = Mutex<[ObjectIdentifier: [UInt8]]>([:])

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            let connection = ObjectIdentifier(context.channel)
            connections.withLock { $0[connection, default: []] += Array(buffer: buffer) }
        }

        /// The bytes of a connection that sent more than `count`, if any.
        func connection(longerThan count: Int) -> [UInt8]? {
            connections.withLock { $0.values.first { $0.count > count } }
        }
    }

    @Test func aJoiningNodesMetadataCrossesTheWireEncrypted() async throws {
        let marker = "zone=LOCALITY-WIRE-MARKER-91c2"
        let key = try ClusterKeyring(primaryBytes: Array(repeating: 0x42, count: 32))
        let ports = try await LoopbackPorts.free(2)
        try #require(ports.count == 2)
        let recorder = Recorder()
        let spy = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(recorder) }
            }
            .bind(host: "127.0.0.1", port: ports[1]).get()
        let node = try GossipMembership(
            name: "joiner", address: NodeAddress(host: "127.0.0.1", port: ports[0]),
            seeds: [NodeAddress(host: "127.0.0.1", port: ports[1])], keyring: key, metadata: Array(marker.utf8),
            swim: GossipMembershipTests.fastSWIM, settings: GossipMembershipTests.fastShell)
        let group = ServiceGroup(configuration: .init(services: [.init(service: node)], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // A join frame is u32 length | sealed push-pull carrying the node's own state.
            var joinFrame: [UInt8]?
            for _ in 0..<400 where joinFrame == nil {
                joinFrame = recorder.connection(longerThan: 4 + PacketSeal.overhead)
                if joinFrame == nil { try await Task.sleep(for: .milliseconds(25)) }
            }
            let captured = try #require(joinFrame, "no join frame reached the seed")
            #expect(!PacketSealEncryptionTests.contains(captured, Array(marker.utf8)))
            // The same bytes, opened with the key, do carry the marker: the search would find it in clear.
            let length = Int(captured[0]) << 24 | Int(captured[1]) << 16 | Int(captured[2]) << 8 | Int(captured[3])
            try #require(captured.count >= 4 + length)
            let opened = try PacketSeal.open(Array(captured[4..<(4 + length)]), keyring: key).get()
            #expect(PacketSealEncryptionTests.contains(opened.payload, Array(marker.utf8)))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        try await spy.close()
    }
}
