import LocalityBench
import LocalityCore
import NIOCore
import Testing

@Suite struct RESPCodecTests {
    @Test func commandIsAnArrayOfBulkStrings() {
        var buffer = ByteBuffer()
        RESPEncoder.writeCommand(["EVALSHA", "abc", "1", "k", "-3"], into: &buffer)
        #expect(String(buffer: buffer) == "*5\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n$1\r\n1\r\n$1\r\nk\r\n$2\r\n-3\r\n")
        var utf8 = ByteBuffer()
        RESPEncoder.writeCommand(["é"], into: &utf8)
        #expect(String(buffer: utf8) == "*1\r\n$2\r\né\r\n")
    }

    @Test func everyTypeRoundTrips() throws {
        let values: [RESPValue] = [
            .simpleString("OK"), .error("NOSCRIPT No matching script"), .integer(-42), .integer(Int64.max),
            .bulkString(Array("hello\r\nworld".utf8)), .bulkString([]), .bulkString(nil), .array(nil), .array([]),
            .array([.integer(1), .bulkString(Array("x".utf8)), .array([.simpleString("nested"), .bulkString(nil)])]),
        ]
        var buffer = ByteBuffer()
        for value in values { RESPEncoder.write(value, into: &buffer) }
        let parser = RESPParser()
        var decoded: [RESPValue] = []
        while let value = try parser.parse(&buffer) { decoded.append(value) }
        #expect(decoded == values)
        #expect(buffer.readableBytes == 0)
    }

    @Test func incompleteInputWaitsForMoreAtEveryCut() throws {
        var whole = ByteBuffer()
        let value = RESPValue.array([.integer(12), .bulkString(Array("payload".utf8)), .simpleString("OK")])
        RESPEncoder.write(value, into: &whole)
        let bytes = Array(whole.readableBytesView)
        let parser = RESPParser()
        for cut in 0..<bytes.count {
            var partial = ByteBuffer(bytes: bytes[0..<cut])
            #expect(try parser.parse(&partial) == nil, "cut at \(cut)")
            #expect(partial.readableBytes == cut, "reader index must not move at cut \(cut)")
            partial.writeBytes(bytes[cut...])
            #expect(try parser.parse(&partial) == value)
        }
    }

    @Test(arguments: [
        ("?oops\r\n", "unknown type byte"),
        (":12x\r\n", "integer"),
        ("$abc\r\n", "bulk length"),
        ("$-2\r\n", "bulk length"),
        ("$3\r\nabcde\r\n", "CRLF"),
        ("*-5\r\n", "array count"),
        ("+OK\rX", "CR not followed by LF"),
        ("$999999999999\r\n", "bulk string of"),
    ])
    func malformedInputIsAClearError(input: String, mentions: String) {
        var buffer = ByteBuffer(string: input)
        do {
            _ = try RESPParser().parse(&buffer)
            Issue.record("\(input.debugDescription) parsed")
        } catch let error as LocalityError {
            #expect(error.code == .badRequest)
            #expect(error.message.contains("malformed RESP"))
            #expect(error.message.contains(mentions), "\(error.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func nestingAndLineLengthAreBounded() {
        var deep = ByteBuffer(string: String(repeating: "*1\r\n", count: 40) + ":1\r\n")
        #expect(throws: LocalityError.self) { _ = try RESPParser().parse(&deep) }
        var parser = RESPParser()
        parser.maxLineLength = 16
        var long = ByteBuffer(string: "+" + String(repeating: "a", count: 100))
        #expect(throws: LocalityError.self) { _ = try parser.parse(&long) }
    }

    @Test func integerAccessorsReadRepliesOfTheScript() {
        #expect(RESPValue.integer(7).int64 == 7)
        #expect(RESPValue.bulkString(Array("12".utf8)).int64 == 12)
        #expect(RESPValue.bulkString(nil).int64 == nil)
        #expect(RESPValue.simpleString("OK").text == "OK")
    }
}
