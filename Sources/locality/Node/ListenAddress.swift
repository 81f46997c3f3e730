import LocalityCore

/// A `host:port` to listen on, where port 0 asks the kernel for a free one (for
/// `--transport` and `--http`; `--bind` needs a real port since it is also advertised).
enum ListenAddress {
    static func parse(_ text: String) -> NodeAddress? {
        if let address = NodeAddress(parsing: text) { return address }
        guard let colon = text.lastIndex(of: ":"), text[text.index(after: colon)...] == "0" else { return nil }
        return NodeAddress(parsing: String(text[..<colon]) + ":1").map { NodeAddress(host: $0.host, port: 0) }
    }
}
