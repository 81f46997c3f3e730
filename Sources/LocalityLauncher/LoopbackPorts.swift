import NIOCore
import NIOPosix

/// Finds loopback ports that are free for both UDP and TCP (a gossip node binds both on
/// one port number). Free "right now": another process may take one before it is used.
public enum LoopbackPorts {
    /// `count` distinct ports, or fewer if the system would not hand out enough.
    public static func free(_ count: Int) async throws -> [Int] {
        var ports: [Int] = []
        for _ in 0..<(count * 10) where ports.count < count {
            let tcp = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
            let port = tcp.localAddress?.port
            let udp = try? await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: port ?? 0).get()
            try await tcp.close()
            try await udp?.close()
            if udp != nil, let port, !ports.contains(port) { ports.append(port) }
        }
        return ports
    }
}
