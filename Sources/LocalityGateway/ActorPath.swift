/// The three segments of `/v1/actors/{type}/{id}/{method}`, still percent-encoded.
struct ActorPath: Equatable {
    var type: Substring
    var id: Substring
    var method: Substring

    static let prefix = "/v1/actors/"

    init(type: Substring, id: Substring, method: Substring) {
        self.type = type
        self.id = id
        self.method = method
    }

    /// The segments of `path` when it is exactly `/v1/actors/` and three non-empty
    /// segments (no query, no trailing slash); nil for any other path, which the router
    /// then matches as before.
    init?(_ path: String) {
        guard path.utf8.starts(with: Self.prefix.utf8) else { return nil }
        let rest = path.utf8.dropFirst(Self.prefix.utf8.count)
        let slash = UInt8(ascii: "/")
        guard let first = rest.firstIndex(of: slash) else { return nil }
        let afterFirst = rest.index(after: first)
        guard let second = rest[afterFirst...].firstIndex(of: slash) else { return nil }
        let afterSecond = rest.index(after: second)
        let last = rest[afterSecond...]
        guard rest.startIndex < first, afterFirst < second, !last.isEmpty, !last.contains(slash) else { return nil }
        type = Substring(rest[..<first])
        id = Substring(rest[afterFirst..<second])
        method = Substring(last)
    }
}
