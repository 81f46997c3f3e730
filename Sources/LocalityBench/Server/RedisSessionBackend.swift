import Foundation
import LocalityCore

/// The stateless Redis baseline: every request goes to Redis through a pool of RESP2
/// connections (`RedisConnectionPool`). A move is one Lua script run with `EVALSHA`
/// (loaded with `SCRIPT LOAD`, reloaded on `NOSCRIPT`): it reads, updates and returns the
/// key's hash atomically. A view is `HMGET`.
///
/// Durability differs from the other systems: the server runs with `appendonly yes` and
/// `appendfsync everysec`, so an acknowledged move may be lost (up to ~1 s of writes) if
/// the machine crashes. The locality and postgres systems fsync before replying.
public final class RedisSessionBackend: SessionBackend {
    public let storeName = "redis"
    private let pool: RedisConnectionPool
    private let sha: String

    /// Atomic read-modify-write of one session.
    public static let moveScript = """
        local score = redis.call('HINCRBY', KEYS[1], 'score', ARGV[1])
        local moves = redis.call('HINCRBY', KEYS[1], 'moves', 1)
        return {score, moves}
        """

    /// Keys of the benchmark live under this prefix; `open` deletes them.
    public static let keyPrefix = "bench:session:"

    private init(pool: RedisConnectionPool, sha: String) {
        self.pool = pool
        self.sha = sha
    }

    /// Connects `poolSize` connections to `url` (`redis://[:password@]host:port`), empties
    /// the database and loads the script.
    public static func open(url text: String, poolSize: Int = 32) async throws -> RedisSessionBackend {
        guard let url = URLComponents(string: text), url.scheme == "redis", let host = url.host, !host.isEmpty else {
            throw LocalityError(.badRequest, "not a redis://host:port URL: \(text)")
        }
        let pool = try await RedisConnectionPool.connect(host: host, port: url.port ?? 6379, size: poolSize, password: url.password)
        do {
            _ = try check(await pool.send(["FLUSHDB"]))
            guard let sha = try check(await pool.send(["SCRIPT", "LOAD", moveScript])).text else {
                throw LocalityError(.internal, "SCRIPT LOAD answered no sha")
            }
            return RedisSessionBackend(pool: pool, sha: sha)
        } catch {
            await pool.close()
            throw error
        }
    }

    public func move(key: String, delta: Int64) async throws -> SessionState {
        let arguments = ["EVALSHA", sha, "1", Self.keyPrefix + key, String(delta)]
        var reply = try await pool.send(arguments)
        if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
            _ = try Self.check(await pool.send(["SCRIPT", "LOAD", Self.moveScript]))
            reply = try await pool.send(arguments)
        }
        guard case .array(let values?) = try Self.check(reply), values.count == 2,
              let score = values[0].int64, let moves = values[1].int64 else {
            throw LocalityError(.internal, "redis script answered \(reply)")
        }
        return SessionState(score: score, moves: moves)
    }

    public func view(key: String) async throws -> SessionState {
        let reply = try Self.check(await pool.send(["HMGET", Self.keyPrefix + key, "score", "moves"]))
        guard case .array(let values?) = reply, values.count == 2 else {
            throw LocalityError(.internal, "redis HMGET answered \(reply)")
        }
        return SessionState(score: values[0].int64 ?? 0, moves: values[1].int64 ?? 0)
    }

    public func stored(key: String) async throws -> SessionState {
        try await view(key: key)
    }

    public func close() async throws {
        await pool.close()
    }

    /// `reply` unless it is an error reply, which becomes `unavailable`.
    static func check(_ reply: RESPValue) throws -> RESPValue {
        if case .error(let message) = reply { throw LocalityError(.unavailable, "redis: \(message)") }
        return reply
    }
}
