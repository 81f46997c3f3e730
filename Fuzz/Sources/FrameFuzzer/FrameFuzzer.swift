import FuzzSupport
import LocalityTransport
import NIOCore
import NIOEmbedded

// The transport frame decoder on a byte stream.
//
// Input: `u16 split | stream`. The stream goes through `FrameDecoder` twice: whole, with
// `decodeFrame(from:maxFrameSize:)`, and in two writes cut at `split` through a
// `ByteToMessageHandler` in an `EmbeddedChannel`, as a connection feeds it. Invariants:
// - both ways give the same frames and the same error (the cut never matters);
// - every frame fits the limit, and the frames re-encode to exactly the bytes consumed;
// - the payload decoders (error payload, call header, handshake message) never trap,
//   and what they decode re-encodes to a value that decodes the same.

/// Small, so the fuzzer reaches the limit with short inputs.
let maxFrameSize = 512

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let split = Int(input.uint16())
    let stream = input.rest()
    let whole = decodeWhole(stream)
    let streamed = decodeStreamed(stream, split: stream.isEmpty ? 0 : split % (stream.count + 1))
    require(whole.frames == streamed.frames, "frames differ when the stream is cut: \(whole.frames.count) vs \(streamed.frames.count)")
    require(whole.failed == streamed.failed, "the cut changed whether decoding fails: \(whole.failed) vs \(streamed.failed)")

    var encoded = ByteBuffer()
    for frame in whole.frames {
        require(frame.wireSize <= maxFrameSize, "frame of \(frame.wireSize) bytes over the \(maxFrameSize)-byte limit")
        frame.write(to: &encoded)
        checkPayload(frame)
    }
    require(Array(encoded.readableBytesView) == Array(stream.prefix(whole.consumed)), "frames do not re-encode to the bytes consumed")
    return 0
}

/// Frames, whether decoding threw, and the bytes consumed by the frames.
struct Decoded {
    var frames: [Frame] = []
    var failed = false
    var consumed = 0
}

func decodeWhole(_ stream: [UInt8]) -> Decoded {
    var buffer = ByteBuffer(bytes: stream)
    var result = Decoded()
    do {
        while let frame = try FrameDecoder.decodeFrame(from: &buffer, maxFrameSize: maxFrameSize) {
            result.frames.append(frame)
        }
    } catch let error as FrameDecodingError {
        result.failed = true
        _ = error.localityError
    } catch {
        require(false, "decodeFrame threw \(error), not a FrameDecodingError")
    }
    result.consumed = buffer.readerIndex
    return result
}

func decodeStreamed(_ stream: [UInt8], split: Int) -> Decoded {
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxFrameSize: maxFrameSize)))
    var result = Decoded()
    for part in [stream[..<split], stream[split...]] where !part.isEmpty {
        do {
            try channel.writeInbound(ByteBuffer(bytes: part))
        } catch {
            result.failed = true
            break
        }
        while let frame = try? channel.readInbound(as: Frame.self) { result.frames.append(frame) }
    }
    while let frame = try? channel.readInbound(as: Frame.self) { result.frames.append(frame) }
    _ = try? channel.finish(acceptAlreadyClosed: true)
    return result
}

/// Runs the payload decoders of the frame's kind; what decodes must decode the same after re-encoding.
func checkPayload(_ frame: Frame) {
    var payload = frame.payload
    switch frame.kind {
    case .error:
        guard let error = LocalityErrorPayload.read(from: &payload) else { return }
        _ = error.localityError
        var encoded = Frame.error(error, requestID: frame.requestID, allocator: ByteBufferAllocator()).payload
        guard let again = LocalityErrorPayload.read(from: &encoded) else {
            require(false, "a re-encoded error payload does not decode: \(error)")
            return
        }
        requireCut(again.code, of: error.code, limit: 255, "error code")
        requireCut(again.message, of: error.message, limit: LocalityErrorPayload.maxMessageBytes, "error message")
    case .call:
        guard let header = CallHeader.read(from: &payload) else { return }
        var encoded = ByteBuffer()
        header.write(to: &encoded)
        require(encoded.readableBytes == header.wireSize, "call header wireSize \(header.wireSize) but \(encoded.readableBytes) bytes written")
        guard let again = CallHeader.read(from: &encoded) else {
            require(false, "a re-encoded call header does not decode: \(header)")
            return
        }
        require(again.deadlineBudgetMilliseconds == header.deadlineBudgetMilliseconds, "call header budget changed")
        require((again.traceparent == nil) == (header.traceparent == nil), "call header traceparent lost")
        requireCut(again.traceparent ?? "", of: header.traceparent ?? "", limit: CallHeader.maxTraceparentBytes, "traceparent")
    case .handshake:
        guard let message = HandshakeMessage.read(from: &payload) else { return }
        var encoded = ByteBuffer()
        message.write(to: &encoded)
        require(HandshakeMessage.read(from: &encoded) == message, "handshake message does not survive re-encoding: \(message)")
    case .reply, .cancel, .ping, .pong:
        return
    }
}

/// A string the wire cuts at `limit` bytes reads back as itself when it fits, and
/// otherwise as a prefix of it that is still whole UTF-8 (no character cut in half).
func requireCut(_ read: String, of original: String, limit: Int, _ what: String) {
    if original.utf8.count <= limit {
        require(read == original, "\(what) changed on the wire: \(original.debugDescription) became \(read.debugDescription)")
    } else {
        require(read.utf8.count <= limit && original.utf8.starts(with: read.utf8),
                "\(what) of \(original.utf8.count) bytes is not cut to a whole prefix: \(read.debugDescription)")
    }
}

@main
enum FrameFuzzerMain {
    static func main() {
        runFuzzer(seeds: seeds, fuzz)
    }
}

/// Valid streams from the real encoders, each behind a `u16` cut point.
func seeds() -> [(name: String, bytes: [UInt8])] {
    let allocator = ByteBufferAllocator()
    func stream(split: UInt16, _ frames: [Frame]) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeInteger(split)
        for frame in frames { frame.write(to: &buffer) }
        return Array(buffer.readableBytesView)
    }
    var call = ByteBuffer()
    CallHeader(deadlineBudgetMilliseconds: 2500, traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").write(to: &call)
    call.writeString("body")
    var hello = ByteBuffer()
    HandshakeMessage.hello(HandshakeHello(version: 1, node: .init(name: "node-a", uid: 7), incarnation: 3, nonce: Array(repeating: 9, count: 16)))
        .write(to: &hello)
    return [
        ("call-and-reply", stream(split: 5, [
            Frame(kind: .call, requestID: 1, payload: call),
            Frame(kind: .reply, requestID: 1, payload: ByteBuffer(string: "ok")),
        ])),
        ("error", stream(split: 0, [Frame.error(LocalityErrorPayload(code: "not_found", message: "no such actor"), requestID: 9, allocator: allocator)])),
        ("handshake", stream(split: 20, [Frame(kind: .handshake, requestID: 0, payload: hello)])),
        ("ping-pong-cancel", stream(split: 13, [
            Frame(kind: .ping, requestID: 4, payload: ByteBuffer()),
            Frame(kind: .pong, requestID: 4, payload: ByteBuffer()),
            Frame(kind: .cancel, requestID: 2, payload: ByteBuffer()),
        ])),
        ("partial", Array(stream(split: 3, [Frame(kind: .reply, requestID: 77, payload: ByteBuffer(string: "truncated reply"))]).dropLast(4))),
    ]
}
