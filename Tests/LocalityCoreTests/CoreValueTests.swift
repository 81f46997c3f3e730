import Testing
import LocalityCore

@Suite("Core values")
struct CoreValueTests {
    @Test("addresses parse host:port and reject garbage")
    func addressParsing() {
        #expect(NodeAddress(parsing: "127.0.0.1:7001") == NodeAddress(host: "127.0.0.1", port: 7001))
        #expect(NodeAddress(parsing: "[::1]:80") == NodeAddress(host: "::1", port: 80))
        #expect(NodeAddress(parsing: "nohost") == nil)
        #expect(NodeAddress(parsing: "h:0") == nil)
        #expect(NodeAddress(parsing: "h:70000") == nil)
        #expect(NodeAddress(parsing: ":80") == nil)
    }

    @Test("a seeded random source replays exactly from its seed")
    func seededRandomReplays() {
        var a = SeededRandom(seed: 42)
        var b = SeededRandom(seed: 42)
        var c = SeededRandom(seed: 43)
        let seqA = (0..<16).map { _ in a.next() }
        let seqB = (0..<16).map { _ in b.next() }
        let seqC = (0..<16).map { _ in c.next() }
        #expect(seqA == seqB)
        #expect(seqA != seqC)
        for _ in 0..<1000 {
            let unit = a.nextUnit()
            #expect(unit >= 0 && unit < 1)
        }
    }

    @Test("timestamps and durations do exact nanosecond arithmetic")
    func timestampArithmetic() {
        let start = Timestamp(nanoseconds: 1_000)
        let later = start + .milliseconds(1500)
        #expect(later.nanoseconds == 1_500_001_000)
        #expect(later - start == .milliseconds(1500))
        #expect(Duration.seconds(2).scaled(by: 1.5) == .seconds(3))
    }

    @Test("error codes are stable strings")
    func errorCodes() {
        #expect(LocalityError.Code.notOwner.rawValue == "not_owner")
        #expect(LocalityError.Code.deadlineExceeded.rawValue == "deadline_exceeded")
        #expect(LocalityError(.overloaded, "queue full").description == "overloaded: queue full")
    }
}
