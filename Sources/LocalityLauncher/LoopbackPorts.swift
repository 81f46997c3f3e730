import Foundation
import NIOCore
import NIOPosix

/// Finds loopback ports that are free for both UDP and TCP (a gossip node binds both on
/// one port number).
///
/// The ports come from below the kernel's ephemeral range (Linux:
/// `/proc/sys/net/ipv4/ip_local_port_range`), chosen at random and checked by binding
/// them: anything in this or another process that binds port 0 meanwhile gets an
/// ephemeral port, so it cannot take a port handed out here before its user binds it.
public enum LoopbackPorts {
    /// `count` distinct ports, or fewer if not enough free ones were found.
    public static func free(_ count: Int) async throws -> [Int] {
        let range = candidateRange()
        var random = SystemRandomNumberGenerator()
        var ports: [Int] = []
        for _ in 0..<(count * 50) where ports.count < count {
            let port = Int.random(in: range, using: &random)
            if !ports.contains(port), await isFree(port) { ports.append(port) }
        }
        return ports
    }

    /// Whether `port` can be bound on 127.0.0.1 for both TCP and UDP right now.
    static func isFree(_ port: Int) async -> Bool {
        guard let tcp = try? await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: port).get() else {
            return false
        }
        let udp = try? await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: port).get()
        try? await tcp.close()
        try? await udp?.close()
        return udp != nil
    }

    /// 10,000 ports just below the ephemeral range (20000–29999 when the range starts at
    /// 32768 or above, as on default Linux).
    static func candidateRange() -> ClosedRange<Int> {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let ephemeralLow = text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32768
        let top = max(11_023, min(ephemeralLow - 2_769, 29_999))
        return (top - 9_999)...top
    }
}
