import Foundation

/// The right a request's path needs when authentication is on.
///
/// - `open`: exactly `/healthz`, `/readyz`, `/openapi.yaml` and the dashboard's page `/`
///   and `/index.html` (probes, the API description, and a static page that holds no data:
///   a browser cannot send a bearer token when it opens a page, so the page takes an admin
///   token from its URL fragment and sends it on the data requests, which need admin);
/// - `actor(kind:)`: any path whose first two segments are `v1` and `actors` (empty
///   segments ignored, as a router may), with its third segment, percent-decoded, as the
///   kind (empty when missing);
/// - `admin`: every other path: the cluster views and `/v1/stats` (the dashboard's data),
///   `/metrics` and unknown paths (deny by default).
enum GatewayAccess: Equatable, Sendable {
    case open
    case actor(kind: Substring)
    case admin

    init(path: String) {
        switch path {
        case "/healthz", "/readyz", "/openapi.yaml", "/", "/index.html":
            self = .open
        case _ where path.utf8.starts(with: ActorPath.prefix.utf8):
            // The fast path's shape: the kind is the segment after the prefix.
            let rest = path.utf8.dropFirst(ActorPath.prefix.utf8.count)
            let end = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
            let kind = Substring(rest[..<end])
            if kind.isEmpty {
                self = Self(segments: path)
            } else {
                self = .actor(kind: Self.decoded(kind))
            }
        default:
            self = Self(segments: path)
        }
    }

    /// The general case: paths with empty segments (`//v1/actors/…`) classified as a
    /// router that ignores empty segments would route them.
    private init(segments path: String) {
        let segments = path.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: true)
        guard segments.count >= 2, segments[0] == "v1", segments[1] == "actors" else {
            self = .admin
            return
        }
        guard segments.count >= 3 else {
            self = .actor(kind: "")
            return
        }
        let kind = segments[2].prefix { $0 != "/" }
        self = .actor(kind: Self.decoded(kind))
    }

    /// `raw` percent-decoded as the actor route decodes it; undecodable: as is (the route
    /// then answers 400 and calls nothing).
    private static func decoded(_ raw: Substring) -> Substring {
        guard raw.utf8.contains(UInt8(ascii: "%")) else { return raw }
        return raw.removingPercentEncoding.map { Substring($0) } ?? raw
    }
}
