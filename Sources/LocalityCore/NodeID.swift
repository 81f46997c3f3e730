/// The identity of one node process in the cluster.
///
/// `name` is what operators type (`n1`); `uid` is drawn at process start, so a node
/// restarted under the same name is a different member (as Akka's `UniqueAddress`):
/// stale gossip and stale directory entries about the old process never apply to it.
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Operator-facing name, unique among live members.
    public var name: String
    /// Random per process start; distinguishes restarts of the same name.
    public var uid: UInt64

    /// The identity of the process `uid` running under `name`.
    public init(name: String, uid: UInt64) {
        self.name = name
        self.uid = uid
    }

    /// Orders by name, then uid (for stable, sorted member lists).
    public static func < (lhs: NodeID, rhs: NodeID) -> Bool {
        (lhs.name, lhs.uid) < (rhs.name, rhs.uid)
    }

    /// `name#uid`, the uid in hexadecimal (`n1#3f2a…`).
    public var description: String { "\(name)#\(String(uid, radix: 16))" }
}

/// A host and port where a node listens (UDP gossip and TCP share the port number).
public struct NodeAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// IPv4/IPv6 literal or host name.
    public var host: String
    /// Port number.
    public var port: Int

    /// An address from a host (name or IP literal, IPv6 without brackets) and a port.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (IPv6 as `[::1]:7001`). Returns nil on malformed input.
    public init?(parsing text: String) {
        let trimmed = String(text.filter { !$0.isWhitespace })
        guard let colon = trimmed.lastIndex(of: ":") else { return nil }
        var host = String(trimmed[..<colon])
        let portText = trimmed[trimmed.index(after: colon)...]
        guard let port = Int(portText), (1...65535).contains(port), !host.isEmpty else { return nil }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.init(host: host, port: port)
    }

    /// Orders by host, then port.
    public static func < (lhs: NodeAddress, rhs: NodeAddress) -> Bool {
        (lhs.host, lhs.port) < (rhs.host, rhs.port)
    }

    /// `host:port`, with brackets around an IPv6 host (`[::1]:7001`).
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
