import LocalityCore
import NIOCore
import NIOEmbedded
import Testing
@testable import LocalityMembership

@Suite struct StreamFramingTests {
    func channel(maxFrameBytes: Int) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([
            ByteToMessageHandler(StreamFrameDecoder(maxFrameBytes: maxFrameBytes)),
            MessageToByteHandler(StreamFrameEncoder()),
        ])
        return channel
    }

    @Test func framesSplitAcrossReadsAreReassembled() throws {
        let channel = try channel(maxFrameBytes: 100)
        var wire = ByteBuffer()
        for body in [[UInt8](repeating: 1, count: 10), [], [2, 3]] {
            wire.writeInteger(UInt32(body.count))
            wire.writeBytes(body)
        }
        // Feed one byte at a time.
        while let byte = wire.readSlice(length: 1) { try channel.writeInbound(byte) }
        #expect(try channel.readInbound(as: ByteBuffer.self).map { Array(buffer: $0) } == [UInt8](repeating: 1, count: 10))
        #expect(try channel.readInbound(as: ByteBuffer.self).map { Array(buffer: $0) } == [])
        #expect(try channel.readInbound(as: ByteBuffer.self).map { Array(buffer: $0) } == [2, 3])
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        _ = try channel.finish()
    }

    @Test func anOversizedLengthFailsBeforeTheBodyArrives() throws {
        let channel = try channel(maxFrameBytes: 100)
        var header = ByteBuffer()
        header.writeInteger(UInt32(101))
        #expect(throws: LocalityError.self) { try channel.writeInbound(header) }
        _ = try? channel.finish()
    }

    @Test func theEncoderWritesTheLengthPrefix() throws {
        let channel = try channel(maxFrameBytes: 100)
        try channel.writeOutbound(ByteBuffer(bytes: [9, 8, 7]))
        let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(Array(buffer: written) == [0, 0, 0, 3, 9, 8, 7])
        _ = try channel.finish()
    }
}
