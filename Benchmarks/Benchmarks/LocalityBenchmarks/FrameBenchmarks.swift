import Benchmark
import LocalityTransport
import NIOCore

/// Transport frames: writing one to a buffer and reading it back.
func frameBenchmarks() {
    let allocator = ByteBufferAllocator()
    let payload = ByteBuffer(bytes: (0..<256).map { UInt8($0 & 0xFF) })
    let frame = Frame(kind: .call, requestID: 42, payload: payload)

    // `Frame.write(to:)` of a 256-byte payload into a reused buffer.
    Benchmark("frame.encode-256B") { benchmark in
        var buffer = allocator.buffer(capacity: 1_024)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            buffer.clear()
            frame.write(to: &buffer)
            blackHole(buffer.readableBytes)
        }
    }

    // `FrameDecoder.decodeFrame(from:maxFrameSize:)` of that frame (the payload is a slice).
    Benchmark("frame.decode-256B") { benchmark in
        var encoded = allocator.buffer(capacity: 1_024)
        frame.write(to: &encoded)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var input = encoded
            blackHole(try FrameDecoder.decodeFrame(from: &input, maxFrameSize: 4 << 20))
        }
    }
}
