import LocalityCore
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A TLS client that is not a node: completes (or fails) the TLS handshake with its own
/// configuration, writes a few bytes and reports whether the server answered anything.
enum RawTLSPeer {
    final class Answered: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let bytes = Mutex(0)
        let closed: EventLoopPromise<Void>

        init(closed: EventLoopPromise<Void>) { self.closed = closed }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let count = unwrapInboundIn(data).readableBytes
            bytes.withLock { $0 += count }
        }

        func channelInactive(context: ChannelHandlerContext) { closed.succeed(()) }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }

    static func handshakeAndSend(_ configuration: TLSConfiguration, to address: NodeAddress) async throws -> Bool {
        let context = try NIOSSLContext(configuration: configuration)
        let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        let closed = eventLoop.makePromise(of: Void.self)
        let answered = Answered(closed: closed)
        let channel = try await ClientBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(answered)
                }
            }
            .connect(host: address.host, port: address.port).get()
        // Not a valid frame: a server that let the peer in would answer with an error frame.
        try? await channel.writeAndFlush(ByteBuffer(bytes: Array(repeating: 0x41, count: 64)))
        let timeout = eventLoop.scheduleTask(in: .seconds(10)) { closed.succeed(()) }
        try? await closed.futureResult.get()
        timeout.cancel()
        try? await channel.close()
        return answered.bytes.withLock { $0 } > 0
    }
}

/// A TCP relay on loopback that records every byte it forwards, in both directions: what
/// a capture of the link would see.
final class RecordingRelay: Sendable {
    let address: NodeAddress
    private let listener: any Channel
    private let recorder: Recorder

    private init(address: NodeAddress, listener: any Channel, recorder: Recorder) {
        self.address = address
        self.listener = listener
        self.recorder = recorder
    }

    /// Everything forwarded so far.
    func recorded() -> RecordedBytes { RecordedBytes(bytes: recorder.bytes.withLock { $0 }) }

    func close() async { try? await listener.close() }

    static func start(to target: NodeAddress) async throws -> RecordingRelay {
        let recorder = Recorder()
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { inbound in
                let inboundPipe = Pipe(recorder: recorder)
                return inbound.pipeline.addHandler(inboundPipe).flatMap {
                    ClientBootstrap(group: inbound.eventLoop)
                        .channelInitializer { outbound in
                            outbound.pipeline.addHandler(Pipe(recorder: recorder, partner: inbound))
                        }
                        .connect(host: target.host, port: target.port)
                }.flatMap { outbound in
                    inboundPipe.setPartner(outbound)
                    return inbound.eventLoop.makeSucceededVoidFuture()
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return RecordingRelay(
            address: NodeAddress(host: "127.0.0.1", port: listener.localAddress!.port!), listener: listener, recorder: recorder
        )
    }

    final class Recorder: Sendable {
        let bytes = Mutex([UInt8]())
    }

    final class Pipe: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        private let recorder: Recorder
        private let partner: Mutex<(channel: (any Channel)?, pending: [ByteBuffer])>

        init(recorder: Recorder, partner: (any Channel)? = nil) {
            self.recorder = recorder
            self.partner = Mutex((partner, []))
        }

        /// Sets where bytes go and sends what arrived before.
        func setPartner(_ channel: any Channel) {
            let pending = partner.withLock { state in
                state.channel = channel
                defer { state.pending = [] }
                return state.pending
            }
            for buffer in pending { channel.write(buffer, promise: nil) }
            channel.flush()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            recorder.bytes.withLock { $0.append(contentsOf: buffer.readableBytesView) }
            let target = partner.withLock { state -> (any Channel)? in
                if state.channel == nil { state.pending.append(buffer) }
                return state.channel
            }
            target?.writeAndFlush(buffer, promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            partner.withLock { $0.channel }?.close(promise: nil)
        }
    }
}

/// Bytes seen on a link, searchable for a plaintext marker.
struct RecordedBytes {
    let bytes: [UInt8]
    var count: Int { bytes.count }

    func contains(_ text: String) -> Bool {
        let needle = Array(text.utf8)
        guard !needle.isEmpty, bytes.count >= needle.count else { return false }
        for start in 0...(bytes.count - needle.count) where bytes[start] == needle[0] {
            if Array(bytes[start..<start + needle.count]) == needle { return true }
        }
        return false
    }
}
