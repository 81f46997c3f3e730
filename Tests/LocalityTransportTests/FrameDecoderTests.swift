import LocalityCore
import NIOCore
import NIOEmbedded
import Testing
@testable import LocalityTransport

@Suite("FrameDecoder")
struct FrameDecoderTests {
    private func encoded(_ frame: Frame) -> ByteBuffer {
        var buffer = ByteBuffer()
        frame.write(to: &buffer)
        return buffer
    }

    @Test func waitsForTheWholeFrameThenDecodesIt() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxFrameSize: 1024)))
        let frame = Frame(kind: .call, requestID: 42, payload: ByteBuffer(string: "hello"))
        var bytes = encoded(frame)
        let head = bytes.readSlice(length: 7)!
        try channel.writeInbound(head)
        #expect(try channel.readInbound(as: Frame.self) == nil)
        try channel.writeInbound(bytes)
        #expect(try channel.readInbound(as: Frame.self) == frame)
        #expect(try channel.finish().isClean)
    }

    @Test func splitsSeveralFramesFromOneRead() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxFrameSize: 1024)))
        var bytes = ByteBuffer()
        for id in 1...3 {
            Frame(kind: .reply, requestID: UInt64(id), payload: ByteBuffer(string: "r\(id)")).write(to: &bytes)
        }
        try channel.writeInbound(bytes)
        for id in 1...3 {
            let frame = try #require(try channel.readInbound(as: Frame.self))
            #expect(frame.requestID == UInt64(id))
            #expect(String(buffer: frame.payload) == "r\(id)")
        }
        _ = try channel.finish()
    }

    @Test func rejectsADeclaredLengthOverTheLimitBeforeBuffering() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxFrameSize: 1024)))
        var bytes = ByteBuffer()
        bytes.writeInteger(UInt32(1_000_000))
        bytes.writeInteger(FrameKind.call.rawValue)
        #expect(throws: FrameDecodingError.tooLarge(size: 1_000_004, limit: 1024)) {
            try channel.writeInbound(bytes)
        }
    }

    @Test func rejectsALengthShorterThanTheHeaderAndAnUnknownKind() throws {
        var short = ByteBuffer()
        short.writeInteger(UInt32(3))
        #expect(throws: FrameDecodingError.self) { _ = try FrameDecoder.decodeFrame(from: &short, maxFrameSize: 1024) }
        var unknown = ByteBuffer()
        unknown.writeInteger(UInt32(9))
        unknown.writeInteger(UInt8(99))
        #expect(throws: FrameDecodingError.self) { _ = try FrameDecoder.decodeFrame(from: &unknown, maxFrameSize: 1024) }
    }

    @Test func anOversizedFrameIsAnsweredWithAnErrorFrameAndTheConnectionCloses() throws {
        let metrics = TransportMetrics(node: "test")
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameSize: 64)))
        try channel.pipeline.syncOperations.addHandler(FrameErrorResponder(metrics: metrics))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        var bytes = ByteBuffer()
        bytes.writeInteger(UInt32(4096))
        bytes.writeInteger(FrameKind.call.rawValue)
        // The responder consumes the decoding error: nothing is rethrown to the caller.
        #expect(throws: Never.self) { try channel.writeInbound(bytes) }
        var written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        var frame = try #require(try FrameDecoder.decodeFrame(from: &written, maxFrameSize: 1 << 20))
        #expect(frame.kind == .error)
        #expect(frame.requestID == 0)
        let error = try #require(LocalityErrorPayload.read(from: &frame.payload))
        #expect(error.localityError.code == .payloadTooLarge)
        #expect(!channel.isActive)
        #expect(metrics.counters.withLock { $0.framesRejected } == 1)
    }

    @Test func errorPayloadRoundTripsAndUnknownCodesBecomeInternal() throws {
        var buffer = ByteBuffer()
        LocalityErrorPayload(LocalityError(.notOwner, "ask n2")).write(to: &buffer)
        #expect(LocalityErrorPayload.read(from: &buffer)?.localityError == LocalityError(.notOwner, "ask n2"))
        var future = ByteBuffer()
        LocalityErrorPayload(code: "from_the_future", message: "x").write(to: &future)
        #expect(LocalityErrorPayload.read(from: &future)?.localityError.code == .internal)
    }

    @Test func callHeaderRoundTripsAndRejectsUnknownFlags() throws {
        let header = CallHeader(deadlineBudgetMilliseconds: 250, traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        var buffer = ByteBuffer()
        header.write(to: &buffer)
        #expect(buffer.readableBytes == header.wireSize)
        #expect(CallHeader.read(from: &buffer) == header)
        var bad = ByteBuffer(bytes: [0x80])
        #expect(CallHeader.read(from: &bad) == nil)
    }
}
