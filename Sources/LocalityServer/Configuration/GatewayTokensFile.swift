import Foundation
import LocalityCore
import LocalityGateway
import Yams

/// The gateway's static bearer tokens (`http-tokens-file`): a JSON or YAML file (JSON is
/// YAML) with a `tokens` list; each entry has a `name` (logs and metrics), the token's
/// SHA-256 in hex (`sha256`, so the file holds no secret; `token: <the token>` is accepted
/// too), the actor `kinds` it may call (a list, `"*"` for all; default none) and `admin`
/// (default false):
///
/// ```yaml
/// tokens:
///   - name: orders-service
///     sha256: 5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8
///     kinds: [Cart, Order]
///   - name: ops
///     sha256: 03ac674216f3e15c761ee1a5e255f067953623c8b388b4459e13f978d7c846f4
///     kinds: ["*"]
///     admin: true
/// ```
///
/// Make a digest with `printf %s "$TOKEN" | sha256sum`.
enum GatewayTokensFile {
    static let entryKeys: Set<String> = ["name", "sha256", "token", "kinds", "admin"]

    /// The tokens in the file at `path`; throws `bad_request` naming the problem.
    static func load(_ path: String) throws(LocalityError) -> [GatewayToken] {
        guard let data = FileManager.default.contents(atPath: path) else { throw LocalityError(.badRequest, "cannot read \(path)") }
        guard let text = String(data: data, encoding: .utf8) else { throw LocalityError(.badRequest, "\(path) is not UTF-8 text") }
        return try parse(text, source: path)
    }

    /// The tokens in `text` (JSON or YAML).
    static func parse(_ text: String, source: String) throws(LocalityError) -> [GatewayToken] {
        let top: Any?
        do { top = try Yams.load(yaml: text) } catch { throw LocalityError(.badRequest, "\(source) does not parse as JSON or YAML") }
        guard let mapping = top as? [String: Any], let list = mapping["tokens"] as? [Any], mapping.count == 1 else {
            throw LocalityError(.badRequest, "\(source) must hold one key, 'tokens', with a list of tokens")
        }
        guard !list.isEmpty else { throw LocalityError(.badRequest, "\(source) lists no token") }
        var tokens: [GatewayToken] = []
        var names: Set<String> = []
        var digests: Set<[UInt8]> = []
        for (index, item) in list.enumerated() {
            let token = try entry(item, at: "\(source), token \(index + 1)")
            guard names.insert(token.name).inserted else { throw LocalityError(.badRequest, "\(source): the name '\(token.name)' is used twice") }
            guard digests.insert(token.sha256).inserted else { throw LocalityError(.badRequest, "\(source): token '\(token.name)' is listed twice") }
            tokens.append(token)
        }
        return tokens
    }

    private static func entry(_ item: Any, at place: String) throws(LocalityError) -> GatewayToken {
        guard let fields = item as? [String: Any] else { throw LocalityError(.badRequest, "\(place): not a mapping") }
        if let unknown = fields.keys.sorted().first(where: { !entryKeys.contains($0) }) {
            throw LocalityError(.badRequest, "\(place): unknown key '\(unknown)' (the keys are: name, sha256, token, kinds, admin)")
        }
        guard let name = fields["name"] as? String, !name.isEmpty, name.utf8.count <= 64 else {
            throw LocalityError(.badRequest, "\(place): 'name' must be text of 1…64 bytes")
        }
        var kinds: [String] = []
        if let value = fields["kinds"] {
            guard let list = value as? [Any], let strings = list as? [String], strings.allSatisfy({ !$0.isEmpty }) else {
                throw LocalityError(.badRequest, "\(place) ('\(name)'): 'kinds' must be a list of kind names or \"*\"")
            }
            kinds = strings
        }
        var admin = false
        if let value = fields["admin"] {
            guard let flag = value as? Bool else { throw LocalityError(.badRequest, "\(place) ('\(name)'): 'admin' must be true or false") }
            admin = flag
        }
        switch (fields["sha256"], fields["token"]) {
        case (let digest?, nil):
            guard let hex = digest as? String, let bytes = hexBytes(hex), bytes.count == 32 else {
                throw LocalityError(.badRequest, "\(place) ('\(name)'): 'sha256' must be 64 hex digits")
            }
            return try GatewayToken(name: name, sha256: bytes, kinds: ActorKindGrant(kinds), isAdmin: admin)
        case (nil, let token?):
            guard let text = token as? String, text.utf8.count >= 16 else {
                throw LocalityError(.badRequest, "\(place) ('\(name)'): 'token' must be text of at least 16 bytes")
            }
            return GatewayToken(name: name, token: text, kinds: ActorKindGrant(kinds), isAdmin: admin)
        default:
            throw LocalityError(.badRequest, "\(place) ('\(name)'): give exactly one of 'sha256' and 'token'")
        }
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = hexValue(utf8[index]), let low = hexValue(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
