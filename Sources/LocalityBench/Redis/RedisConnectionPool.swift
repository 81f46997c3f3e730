import LocalityCore
import NIOCore
import Synchronization

/// A fixed set of Redis connections used round-robin. Commands on one connection may
/// overlap (replies are matched in order), each connection bounded by its `maxInFlight`.
public final class RedisConnectionPool: Sendable {
    private let connections: [RedisConnection]
    private let nextIndex = Atomic<Int>(0)

    private init(connections: [RedisConnection]) {
        self.connections = connections
    }

    /// Opens `size` (1…1024) connections to `host:port`; sends `AUTH password` first when given.
    public static func connect(host: String, port: Int, size: Int, password: String? = nil) async throws -> RedisConnectionPool {
        guard size >= 1, size <= 1024 else { throw LocalityError(.badRequest, "redis pool size must be 1…1024") }
        var connections: [RedisConnection] = []
        do {
            for _ in 0..<size {
                let connection = try await RedisConnection.connect(host: host, port: port)
                connections.append(connection)
                if let password {
                    let reply = try await connection.send(["AUTH", password])
                    if case .error(let message) = reply { throw LocalityError(.unauthenticated, "redis AUTH: \(message)") }
                }
            }
        } catch {
            for connection in connections { await connection.close() }
            throw error
        }
        return RedisConnectionPool(connections: connections)
    }

    /// Sends one command on the next connection.
    public func send(_ arguments: [String]) async throws -> RESPValue {
        let index = nextIndex.add(1, ordering: .relaxed).oldValue
        return try await connections[Int(UInt(bitPattern: index) % UInt(connections.count))].send(arguments)
    }

    public func close() async {
        for connection in connections { await connection.close() }
    }
}
