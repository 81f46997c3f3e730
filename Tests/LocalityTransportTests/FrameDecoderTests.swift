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

    /// The frame target's re-encoding invariant (inputs in Fuzz/Corpus/frame/regression-*):
    /// a field the wire cuts must be cut between characters, or the peer reads U+FFFD.
    /// Here a code of "a" + 100 invalid bytes reads as 301 bytes of text, and a real
    /// message of 1,201 bytes ends inside an "é" at the 1,024-byte limit.
    @Test func cutStringsEndBetweenCharacters() throws {
        var payload = ByteBuffer()
        payload.writeInteger(UInt8(101))
        payload.writeBytes([UInt8(ascii: "a")] + Array(repeating: 0xFF, count: 100))
        payload.writeInteger(UInt32(1))
        payload.writeString("x")
        let fuzzed = try #require(LocalityErrorPayload.read(from: &payload))
        let long = LocalityErrorPayload(code: "internal", message: "a" + String(repeating: "é", count: 600))
        for original in [fuzzed, long] {
            var encoded = Frame.error(original, requestID: 1, allocator: ByteBufferAllocator()).payload
            let again = try #require(LocalityErrorPayload.read(from: &encoded))
            #expect(again.code.utf8.count <= 255 && original.code.utf8.starts(with: again.code.utf8))
            #expect(again.message.utf8.count <= LocalityErrorPayload.maxMessageBytes && original.message.utf8.starts(with: again.message.utf8))
            #expect(!again.code.unicodeScalars.contains("\u{FFFD}") || original.code.unicodeScalars.contains("\u{FFFD}"))
        }
        #expect(Frame.error(long, requestID: 1, allocator: ByteBufferAllocator()).payload.readableBytes == 1 + 8 + 4 + 1023)

        var call = ByteBuffer(bytes: [2, 101, UInt8(ascii: "a")] + Array(repeating: 0xFF, count: 100))
        let header = try #require(CallHeader.read(from: &call))
        var encoded = ByteBuffer()
        header.write(to: &encoded)
        #expect(encoded.readableBytes == header.wireSize)
        let again = try #require(CallHeader.read(from: &encoded))
        let traceparent = try #require(again.traceparent)
        #expect(traceparent.utf8.count == 1 + 84 * 3 && header.traceparent?.utf8.starts(with: traceparent.utf8) == true)
    }
}
