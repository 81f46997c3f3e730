import Distributed
import Foundation
import LocalityActors
import LocalityCore
import LocalityExamples
import LocalityStorage
import Testing

/// Two methods that share a base name, for the ambiguity check.
distributed actor Greeter: VirtualActor {
    typealias ActorSystem = ClusterSystem

    init(actorSystem: ClusterSystem) {
        self.actorSystem = actorSystem
    }

    distributed func greet(name: String) -> String { "hello \(name)" }
    distributed func greet(name: String, times: Int) -> String { Array(repeating: "hello \(name)", count: times).joined(separator: " ") }
    distributed func shout(_ word: String) -> String { word.uppercased() }
    distributed func tags(of names: [String], limit: Int?) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: names.prefix(limit ?? names.count).map { ($0, $0.count) })
    }
}

@Suite("JSON invocation (ActorInvoker)")
struct JSONInvocationTests {
    static func system(store: any StateStore = MemoryStateStore()) throws -> ClusterSystem {
        let system = ClusterSystem(node: NodeID(name: "j1", uid: 7), stateStore: store)
        try ExampleKinds.register(on: system)
        try system.register(Fragile.self, kind: "fragile") { _, system in Fragile(actorSystem: system) }
        try system.register(Greeter.self, kind: "greeter") { _, system in Greeter(actorSystem: system) }
        return system
    }

    static func call(
        _ invoker: any ActorInvoker, _ kind: String, _ key: String, _ method: String, _ json: String = ""
    ) async throws -> String {
        String(decoding: try await invoker.invoke(kind: kind, key: key, method: method, arguments: Array(json.utf8), timeout: .seconds(10)), as: UTF8.self)
    }

    /// The code of the `LocalityError` `body` throws, nil when it throws none; the message goes to `message`.
    static func code(_ body: () async throws -> String, message: inout String) async -> LocalityError.Code? {
        do {
            _ = try await body()
            return nil
        } catch let error as LocalityError {
            message = error.message
            return error.code
        } catch {
            message = "\(error)"
            return nil
        }
    }

    @Test("arguments by label or in order, method by base or full name; the result is JSON")
    func argumentsAndResults() async throws {
        let system = try Self.system()
        let first = try await Self.call(system, "player", "p1", "recordMatch", #"{"points":12,"won":true}"#)
        let totals = try JSONDecoder().decode(PlayerStats.Totals.self, from: Data(first.utf8))
        #expect(totals.matches == 1 && totals.points == 12 && totals.wins == 1)
        _ = try await Self.call(system, "player", "p1", "recordMatch(points:won:)", "[3, false]")
        let current = try JSONDecoder().decode(PlayerStats.Totals.self, from: Data(try await Self.call(system, "player", "p1", "current").utf8))
        #expect(current.matches == 2 && current.points == 15 && current.recent == [12, 3])
        #expect(try await Self.call(system, "player", "p1", "winRate", "{}") == "0.5")
        #expect(try await Self.call(system, "player", "p1", "winRate()", "[]") == "0.5")
        #expect(try await Self.call(system, "player", "p1", "reset", " \n") == "null")
        #expect(try await Self.call(system, "counter", "c1", "increment", #"{"by": 4}"#) == "4")
        #expect(try await Self.call(system, "counter", "c1", "increment(by:)", "[-1]") == "3")
        #expect(try await Self.call(system, "counter", "c1", "value") == "3")
        #expect(try await Self.call(system, "greeter", "g", "shout", #"["hey"]"#) == #""HEY""#)
        #expect(try await Self.call(system, "greeter", "g", "greet(name:times:)", #"{"times":2,"name":"al"}"#) == #""hello al hello al""#)
        let tags = try await Self.call(system, "greeter", "g", "tags", #"{"of":["ab","c"],"limit":null}"#)
        #expect(try JSONDecoder().decode([String: Int].self, from: Data(tags.utf8)) == ["ab": 2, "c": 1])
        await system.shutdown()
    }

    @Test("names and arguments that do not fit: actor_not_found or bad_request, with a message that says why")
    func refusals() async throws {
        let system = try Self.system()
        let cases: [(String, String, String, LocalityError.Code, String)] = [
            ("nope", "recordMatch", "{}", .actorNotFound, "no actor kind nope"),
            ("player", "steal", "{}", .actorNotFound, "recordMatch(points:won:)"),
            ("player", "recordMatch(points:)", "{}", .actorNotFound, "has no method"),
            ("greeter", "greet", #"{"name":"x"}"#, .badRequest, "greet(name:), greet(name:times:)"),
            ("player", "recordMatch", #"{"points":12,"won":tru}"#, .badRequest, "not valid JSON"),
            ("player", "recordMatch", #"{"points":"ten","won":true}"#, .badRequest, "argument 'points'"),
            ("player", "recordMatch", #"{"points":1}"#, .badRequest, "missing argument 'won'"),
            ("player", "recordMatch", #"{"points":1,"won":true,"bonus":2}"#, .badRequest, "no argument 'bonus'"),
            ("player", "recordMatch", "[1]", .badRequest, "takes 2 arguments"),
            ("player", "recordMatch", "[1, true, 3]", .badRequest, "takes 2 arguments"),
            ("player", "recordMatch", "42", .badRequest, "JSON object"),
            ("player", "current", #"{"x":1}"#, .badRequest, "no argument 'x'"),
            ("greeter", "shout", #"{"word":"x"}"#, .badRequest, "JSON array"),
            ("counter", "increment", #"{"by":1.5}"#, .badRequest, "argument 'by'"),
        ]
        for (kind, method, json, expected, fragment) in cases {
            var message = ""
            let code = await Self.code({ try await Self.call(system, kind, "k", method, json) }, message: &message)
            #expect(code == expected, "\(kind).\(method) \(json): \(message)")
            #expect(message.contains(fragment), "\(kind).\(method) \(json): '\(message)' lacks '\(fragment)'")
        }
        // Arguments whose shape does not fit are refused before the actor is activated.
        var ignored = ""
        _ = await Self.code({ try await Self.call(system, "player", "never", "recordMatch", "[1]") }, message: &ignored)
        #expect(!system.activeIDs.contains(VirtualActorID(kind: "player", key: "never")))
        await system.shutdown()
    }

    @Test("a method that throws: ActorMethodError with the JSON of allowed error types, the type name of others")
    func methodErrors() async throws {
        let system = try Self.system()
        do {
            _ = try await Self.call(system, "player", "p", "recordMatch", #"{"points":-2,"won":false}"#)
            Issue.record("no error")
        } catch let error as ActorMethodError {
            #expect(error.type == "PlayerStats.MatchError")
            let decoded = try JSONDecoder().decode(PlayerStats.MatchError.self, from: Data(try #require(error.json)))
            #expect(decoded == .negativePoints(-2))
        }
        do {
            _ = try await Self.call(system, "fragile", "f", "failPlain")
            Issue.record("no error")
        } catch let error as ActorMethodError {
            #expect(error.type.hasSuffix("Fragile.PlainError"))
            #expect(error.json == nil)
        }
        var message = ""
        #expect(await Self.code({ try await Self.call(system, "fragile", "f", "fail", #"{"code":"conflict"}"#) }, message: &message) == .conflict)
        await system.shutdown()
    }

    @Test("Counter writes through: the store holds every acknowledged increment")
    func counterWritesThrough() async throws {
        let store = MemoryStateStore()
        let system = try Self.system(store: store)
        for _ in 0..<5 { _ = try await Self.call(system, "counter", "c", "increment", #"{"by":2}"#) }
        #expect(try await Self.call(system, "counter", "c", "storedValue") == "10")
        let stored = try await store.read(StateKey(kind: "counter", id: "c"))
        #expect(try PersistentState<Int>.value(fromStored: try #require(stored.value)) == 10)
        do {
            _ = try await Self.call(system, "counter", "c", "increment", "[\(Int.max)]")
            Issue.record("no overflow error")
        } catch let error as ActorMethodError {
            #expect(error.type == "Counter.CounterError")
        }
        #expect(try await Self.call(system, "counter", "c", "value") == "10")
        await system.shutdown()
    }

    @Test("two nodes: the entry node routes the JSON to the owner, which decodes it and runs the call")
    func acrossNodes() async throws {
        let directory = try ActorCluster.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let nodes = try await ActorCluster.start(nodes: 2, directory: directory)
        let entry = nodes[0]
        let key = ActorCluster.remoteKey("counter", from: entry, prefix: "c")
        for expected in 1...10 {
            #expect(try await Self.call(entry.system, "counter", key, "increment", #"{"by":1}"#) == "\(expected)")
        }
        #expect(try await Self.call(nodes[1].system, "counter", key, "value") == "10")
        #expect(try await Self.call(entry.system, "counter", key, "storedValue") == "10")
        let id = VirtualActorID(kind: "counter", key: key)
        #expect(!entry.system.activeIDs.contains(id))
        #expect(nodes[1].system.activeIDs.contains(id))
        #expect(entry.router.stats.forwarded >= 11)

        // Errors keep their shape across the hop.
        let player = ActorCluster.remoteKey("player", from: entry, prefix: "p")
        do {
            _ = try await Self.call(entry.system, "player", player, "recordMatch", "[-5, true]")
            Issue.record("no error")
        } catch let error as ActorMethodError {
            #expect(error.type == "PlayerStats.MatchError")
            #expect(try JSONDecoder().decode(PlayerStats.MatchError.self, from: Data(try #require(error.json))) == .negativePoints(-5))
        }
        var message = ""
        #expect(await Self.code({ try await Self.call(entry.system, "player", player, "recordMatch", "{") }, message: &message) == .badRequest)
        #expect(message.contains("not valid JSON"), "\(message)")
        for node in nodes { await node.stop() }
    }
}
