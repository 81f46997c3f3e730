import Foundation
import LocalityBench
import LocalityClient
import LocalityCore
import NIOCore
import NIOHTTP1

/// The demo's load: `clients` closed-loop clients, each with a keep-alive connection to
/// a gateway, playing matches for `players` players of the PlayerStats example: a share
/// `writeRatio` of requests record a match (`recordMatch`, written through to SQLite
/// before the reply), the rest read the player's totals (`current`, from memory).
///
/// The clients behave as the gateway's documentation asks: every write carries an
/// `Idempotency-Key`, and a call that may have run (504, or a connection lost with the
/// call in flight) or was refused (503) is retried, the write under its same key, on the
/// next node, until it answers or `callBudget` (the default call deadline, 5 s) is spent.
/// Only a call still unanswered then counts as an error. A client whose gateway stops
/// answering moves to the next node; each attempt is bounded by `requestTimeout` and the
/// whole run by `duration`.
struct DemoWorkload: Sendable {
    var httpPorts: [Int]
    var players: Int
    var clients: Int
    var writeRatio: Double
    var duration: Duration
    var requestTimeout: Duration = .seconds(2)
    var callBudget: Duration = .seconds(5)
    var seed: UInt64 = 42

    static func playerKey(_ index: Int) -> String { "player-\(index)" }

    /// Runs every client until `start + duration`; `ledger` receives the outcomes.
    func run(ledger: DemoLedger, start: ContinuousClock.Instant) async {
        var seeds = SeededRandom(seed: seed)
        await withTaskGroup(of: Void.self) { group in
            for client in 0..<clients {
                let random = seeds.split()
                group.addTask { await runClient(client, random: random, ledger: ledger, start: start) }
            }
        }
    }

    /// What one attempt of a call came to.
    private enum Attempt {
        case answered(write: Bool)
        case retry(reason: String)
        case failed(reason: String)
    }

    private func runClient(_ client: Int, random: SeededRandom, ledger: DemoLedger, start: ContinuousClock.Instant) async {
        var random = random
        var node = client % httpPorts.count
        var connection: HTTPClientConnection?
        let end = start + duration
        var calls = 0
        while ContinuousClock.now < end {
            let player = Int(random.next() % UInt64(players))
            let write = random.nextUnit() < writeRatio
            let body = body(write: write, random: &random)
            calls += 1
            let headers = write ? [("Idempotency-Key", "demo-\(seed)-\(client)-\(calls)")] : []
            let began = ContinuousClock.now
            let second = (began - start).seconds
            if write { ledger.attempt(player) }
            var retries = 0
            while true {
                let outcome: Attempt
                do {
                    let open: HTTPClientConnection
                    if let current = connection, current.isActive {
                        open = current
                    } else {
                        open = try await HTTPClientConnection.connect(host: "127.0.0.1", port: httpPorts[node])
                        connection = open
                    }
                    let reply = try await open.send(.POST, path(player: player, write: write), json: body, headers: headers, timeout: requestTimeout)
                    let code = Self.errorCode(reply.body)
                    switch (reply.status, code) {
                    case (200, _), (409, "already_applied"): outcome = .answered(write: write)
                    case (503, _), (504, _): outcome = .retry(reason: "HTTP \(reply.status) \(code)")
                    default: outcome = .failed(reason: "HTTP \(reply.status) \(code)")
                    }
                } catch {
                    outcome = .retry(reason: (error as? LocalityError)?.code.rawValue ?? "connection refused or reset")
                    await connection?.close()
                    connection = nil
                    node = (node + 1) % httpPorts.count
                }
                switch outcome {
                case .answered(let write):
                    ledger.success(at: second, latency: ContinuousClock.now - began, write: write, player: player, retries: retries)
                case .failed(let reason):
                    ledger.failure(at: second, reason: reason)
                    try? await Task.sleep(for: .milliseconds(20))
                case .retry(let reason):
                    if ContinuousClock.now - began < callBudget, ContinuousClock.now < end + callBudget {
                        retries += 1
                        ledger.retried(reason: reason)
                        try? await Task.sleep(for: .milliseconds(20))
                        continue
                    }
                    ledger.failure(at: second, reason: reason)
                }
                break
            }
        }
        await connection?.close()
    }

    private func path(player: Int, write: Bool) -> String {
        "/v1/actors/player/\(Self.playerKey(player))/\(write ? "recordMatch" : "current")"
    }

    private func body(write: Bool, random: inout SeededRandom) -> ByteBuffer {
        guard write else { return ByteBuffer(string: "{}") }
        let points = Int(random.next() % 50)
        let won = random.next() % 2 == 0
        return ByteBuffer(string: #"{"points":\#(points),"won":\#(won)}"#)
    }

    /// The `code` of a gateway error body, or "" when there is none.
    static func errorCode(_ body: ByteBuffer) -> String {
        struct Failure: Decodable {
            struct Inner: Decodable { var code: String }
            var error: Inner
        }
        return (try? JSONDecoder().decode(Failure.self, from: Data(body.readableBytesView)))?.error.code ?? ""
    }
}
