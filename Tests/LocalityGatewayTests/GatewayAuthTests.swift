import Crypto
import Foundation
import JWTKit
import LocalityClient
import LocalityCore
import Testing
@testable import LocalityGateway

/// Bearer-token authentication over a real server: static tokens, JWTs (HS256 and ES256),
/// per-kind grants, admin paths, open paths, and the answers and counters of refusals.
@Suite("Gateway authentication", .timeLimit(.minutes(3)))
struct GatewayAuthTests {
    static let counterToken = "counter-token-0123456789"
    static let adminToken = "admin-token-0123456789abc"
    static let everyKindToken = "every-kind-token-0123456789"
    static let hmacSecret = Array("an HS256 secret of at least 32 bytes, for tests".utf8)
    static let ecKey = ES256PrivateKey()

    static func tokens() throws -> [GatewayToken] {
        [
            try GatewayToken(name: "counter-service", sha256: Array(SHA256.hash(data: Array(counterToken.utf8))), kinds: .only(["counter"])),
            GatewayToken(name: "ops", token: adminToken, kinds: .only([]), isAdmin: true),
            GatewayToken(name: "everything", token: everyKindToken, kinds: ActorKindGrant(["*"])),
        ]
    }

    static func settings(issuer: String? = nil, audience: String? = nil) throws -> GatewaySettings {
        var settings = GatewaySettings()
        let jwt = try GatewayJWTSettings(
            hmacSecret: hmacSecret, publicKeyPEM: ecKey.publicKey.pemRepresentation, issuer: issuer, audience: audience)
        settings.auth = GatewayAuthSettings(tokens: try tokens(), jwt: jwt)
        return settings
    }

    static func bearer(_ token: String) -> [String: String] { ["Authorization": "Bearer \(token)"] }

    struct Claims: JWTPayload {
        var exp: ExpirationClaim?
        var nbf: NotBeforeClaim?
        var iss: IssuerClaim?
        var aud: AudienceClaim?
        var sub: SubjectClaim?
        var locality_kinds: [String]?
        var locality_admin: Bool?

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func claims(kinds: [String]? = ["counter"], admin: Bool? = nil, expiresIn: TimeInterval = 3_600, notBefore: TimeInterval? = nil,
                       iss: String? = nil, aud: String? = nil) -> Claims {
        Claims(exp: ExpirationClaim(value: Date().addingTimeInterval(expiresIn)),
               nbf: notBefore.map { NotBeforeClaim(value: Date().addingTimeInterval($0)) },
               iss: iss.map { IssuerClaim(value: $0) }, aud: aud.map { AudienceClaim(value: [$0]) },
               sub: SubjectClaim(value: "test-client"), locality_kinds: kinds, locality_admin: admin)
    }

    static func hs256(_ claims: Claims, secret: [UInt8] = hmacSecret) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(claims)
    }

    static func es256(_ claims: Claims, key: ES256PrivateKey = ecKey) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key)
        return try await keys.sign(claims)
    }

    static func call(_ kind: String, headers: [String: String] = [:], port: Int) async throws -> RawHTTPResponse {
        try await RawHTTPClient.post("/v1/actors/\(kind)/k1/increment", "{}", headers: headers, port: port)
    }

    // MARK: static tokens

    @Test func anActorCallWithoutATokenIs401WithABearerChallengeAndRunsNothing() async throws {
        let invoker = FakeInvoker.echo()
        try await GatewayHarness.withGateway(try Self.settings(), context: GatewayContext(invoker: invoker)) { _, port in
            // This path has the fast path's shape: GatewayResponder must check the token too.
            #expect(ActorPath("/v1/actors/counter/k1/increment") != nil)
            let response = try await Self.call("counter", port: port)
            #expect(response.status == 401)
            #expect(response.errorCode == "unauthorized")
            #expect(response.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
            #expect(response.headers["content-type"] == "application/json")
            // Through the router's route too (a trailing slash misses the fast match).
            let routed = try await RawHTTPClient.post("/v1/actors/counter/k1/increment/", "{}", port: port)
            #expect(routed.status == 401 || routed.status == 404)
            #expect(routed.status != 200)
            #expect(invoker.calls == 0)
        }
    }

    @Test func malformedAndUnknownStaticTokensAre401() async throws {
        let invoker = FakeInvoker.echo()
        try await GatewayHarness.withGateway(try Self.settings(), context: GatewayContext(invoker: invoker)) { _, port in
            for header in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer a b", "Token \(Self.counterToken)"] {
                let response = try await Self.call("counter", headers: ["Authorization": header], port: port)
                #expect(response.status == 401, "\(header)")
                #expect(response.errorCode == "unauthorized")
                #expect(response.headers["www-authenticate"]?.contains("invalid_token") == true)
            }
            let forged = try await Self.call("counter", headers: Self.bearer("counter-token-0123456780"), port: port)
            #expect(forged.status == 401)
            #expect(forged.body.contains("unknown_token"))
            #expect(invoker.calls == 0)
        }
    }

    @Test func aTokenForOneKindCallsItAndGets403ForAnother() async throws {
        let invoker = FakeInvoker.echo()
        try await GatewayHarness.withGateway(try Self.settings(), context: GatewayContext(invoker: invoker)) { _, port in
            let allowed = try await Self.call("counter", headers: Self.bearer(Self.counterToken), port: port)
            #expect(allowed.status == 200)
            #expect(allowed.body.contains("\"kind\":\"counter\""))
            // The scheme is case-insensitive.
            let lower = try await Self.call("counter", headers: ["Authorization": "bearer \(Self.counterToken)"], port: port)
            #expect(lower.status == 200)
            let other = try await Self.call("player", headers: Self.bearer(Self.counterToken), port: port)
            #expect(other.status == 403)
            #expect(other.errorCode == "forbidden")
            #expect(other.headers["www-authenticate"] == nil)
            // A percent-encoded kind is checked after decoding, as the route decodes it.
            let encoded = try await Self.call("c%6Funter", headers: Self.bearer(Self.counterToken), port: port)
            #expect(encoded.status == 200)
            let encodedOther = try await Self.call("pl%61yer", headers: Self.bearer(Self.counterToken), port: port)
            #expect(encodedOther.status == 403)
            // Empty segments do not slip past the kind check.
            let doubled = try await RawHTTPClient.post("//v1/actors/player/k1/increment", "{}", headers: Self.bearer(Self.counterToken), port: port)
            #expect(doubled.status != 200)
            // `*` allows every kind; an admin token with no kinds calls none.
            #expect(try await Self.call("player", headers: Self.bearer(Self.everyKindToken), port: port).status == 200)
            #expect(try await Self.call("player", headers: Self.bearer(Self.adminToken), port: port).status == 403)
            #expect(invoker.calls == 4)
        }
    }

    @Test func clusterViewsStatsAndMetricsNeedAnAdminToken() async throws {
        LocalityMetrics.bootstrap()
        let context = ClusterEndpointTests.context()
        try await GatewayHarness.withGateway(try Self.settings(), context: context) { _, port in
            for path in ["/v1/cluster/members", "/v1/cluster/ring", "/v1/cluster/lookup?key=a", "/v1/cluster/activations", "/v1/stats", "/metrics"] {
                let anonymous = try await RawHTTPClient.get(path, port: port)
                #expect(anonymous.status == 401, "\(path)")
                let user = try await RawHTTPClient.request("GET", path, headers: Self.bearer(Self.everyKindToken), port: port)
                #expect(user.status == 403, "\(path)")
                #expect(user.errorCode == "forbidden")
                let admin = try await RawHTTPClient.request("GET", path, headers: Self.bearer(Self.adminToken), port: port)
                #expect(admin.status == 200, "\(path): \(admin.body)")
            }
            // An unknown path needs admin too (deny by default): then it is a plain 404.
            #expect(try await RawHTTPClient.get("/v1/nothing", port: port).status == 401)
            #expect(try await RawHTTPClient.request("GET", "/v1/nothing", headers: Self.bearer(Self.adminToken), port: port).status == 404)
        }
    }

    @Test func healthReadinessTheAPIDescriptionAndTheDashboardPageStayOpen() async throws {
        try await GatewayHarness.withGateway(try Self.settings(), context: GatewayContext(invoker: FakeInvoker.echo())) { _, port in
            for path in ["/healthz", "/readyz", "/openapi.yaml", "/", "/index.html"] {
                let response = try await RawHTTPClient.get(path, port: port)
                #expect(response.status == 200, "\(path)")
            }
            // With a bad token too: open paths do not look at it.
            let withBadToken = try await RawHTTPClient.request("GET", "/healthz", headers: Self.bearer("nonsense-token-xyz"), port: port)
            #expect(withBadToken.status == 200)
        }
    }

    @Test func withoutAuthSettingsEverythingAnswersAsBefore() async throws {
        try await GatewayHarness.withGateway(context: ClusterEndpointTests.context()) { server, port in
            #expect(server.authenticator == nil)
            let call = try await Self.call("counter", port: port)
            #expect(call.status == 200)
            let members = try await RawHTTPClient.get("/v1/cluster/members", port: port)
            #expect(members.status == 200)
            // A token is ignored when authentication is off.
            let withToken = try await Self.call("counter", headers: Self.bearer("anything-at-all"), port: port)
            #expect(withToken.status == 200)
        }
    }

    @Test func rejectionsAreCountedByReason() async throws {
        LocalityMetrics.bootstrap()
        try await GatewayHarness.withGateway(try Self.settings(), context: GatewayContext(invoker: FakeInvoker.echo())) { _, port in
            _ = try await Self.call("counter", port: port)
            _ = try await Self.call("counter", headers: Self.bearer("unknown-token-0123456789"), port: port)
            _ = try await Self.call("player", headers: Self.bearer(Self.counterToken), port: port)
            _ = try await RawHTTPClient.request("GET", "/metrics", headers: Self.bearer(Self.counterToken), port: port)
            let scrape = try await RawHTTPClient.request("GET", "/metrics", headers: Self.bearer(Self.adminToken), port: port)
            #expect(scrape.status == 200)
            for reason in ["missing", "unknown_token", "kind_not_allowed", "admin_required"] {
                let value = MetricsAndConnectionTests.value("locality_gateway_auth_rejected_total{reason=\"\(reason)\"}", in: scrape.body)
                #expect((value ?? 0) >= 1, "\(reason)")
            }
            let accepted = MetricsAndConnectionTests.value("locality_gateway_auth_accepted_total{token=\"ops\"}", in: scrape.body)
            #expect((accepted ?? 0) >= 1)
            // The scrape shows token names, never a token.
            #expect(!scrape.body.contains(Self.counterToken))
        }
    }

    // MARK: JWT

    @Test func validHS256AndES256TokensCallTheirKinds() async throws {
        let invoker = FakeInvoker.echo()
        try await GatewayHarness.withGateway(try Self.settings(), context: GatewayContext(invoker: invoker)) { server, port in
            let hs = try await Self.hs256(Self.claims())
            #expect(try await Self.call("counter", headers: Self.bearer(hs), port: port).status == 200)
            // Again: from the cache this time, with the same answer.
            #expect(try await Self.call("counter", headers: Self.bearer(hs), port: port).status == 200)
            #expect(server.authenticator?.jwt?.cache.count == 1)
            #expect(try await Self.call("player", headers: Self.bearer(hs), port: port).status == 403)
            let es = try await Self.es256(Self.claims(kinds: ["*"]))
            #expect(try await Self.call("player", headers: Self.bearer(es), port: port).status == 200)
            // No locality_kinds claim: no kind.
            let none = try await Self.hs256(Self.claims(kinds: nil))
            #expect(try await Self.call("counter", headers: Self.bearer(none), port: port).status == 403)
            #expect(invoker.calls == 3)
        }
    }

    @Test func forgedExpiredAndNotYetValidJWTsAre401() async throws {
        let invoker = FakeInvoker.echo()
        try await GatewayHarness.withGateway(try Self.settings(), context: GatewayContext(invoker: invoker)) { _, port in
            let wrongSecret = try await Self.hs256(Self.claims(), secret: Array("another secret that is long enough to be used".utf8))
            let wrongKey = try await Self.es256(Self.claims(), key: ES256PrivateKey())
            let expired = try await Self.hs256(Self.claims(expiresIn: -60))
            let early = try await Self.hs256(Self.claims(notBefore: 3_600))
            // A valid token whose payload was swapped for one granting every kind.
            let valid = try await Self.hs256(Self.claims())
            let parts = valid.split(separator: ".")
            let otherPayload = try await Self.hs256(Self.claims(kinds: ["*"], admin: true)).split(separator: ".")[1]
            let spliced = "\(parts[0]).\(otherPayload).\(parts[2])"
            // alg "none" with no signature.
            let noneHeader = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64EncodedString()
                .replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            let unsigned = "\(noneHeader).\(otherPayload)."
            let cases: [(String, String)] = [
                (wrongSecret, "bad_signature"), (wrongKey, "bad_signature"), (spliced, "bad_signature"), (unsigned, "bad_signature"),
                (expired, "expired"), (early, "invalid_claims"), ("a.b.c", "malformed"),
            ]
            for (token, reason) in cases {
                let response = try await Self.call("counter", headers: Self.bearer(token), port: port)
                #expect(response.status == 401, "\(reason)")
                #expect(response.errorCode == "unauthorized")
                #expect(response.body.contains(reason), "\(reason): \(response.body)")
                #expect(response.headers["www-authenticate"]?.contains("invalid_token") == true)
            }
            #expect(invoker.calls == 0)
        }
    }

    @Test func rs256TokensVerifyWithAnRSAPublicKey() async throws {
        let privateKey = try JWTKit.Insecure.RSA.PrivateKey(pem: try OpenSSLTool.rsaPrivateKeyPEM())
        var settings = GatewaySettings()
        settings.auth = GatewayAuthSettings(jwt: try GatewayJWTSettings(publicKeyPEM: privateKey.publicKey.pemRepresentation))
        #expect(settings.auth?.jwt?.algorithms == ["RS256"])
        try await GatewayHarness.withGateway(settings, context: GatewayContext(invoker: FakeInvoker.echo())) { _, port in
            let signer = JWTKeyCollection()
            await signer.add(rsa: privateKey, digestAlgorithm: .sha256)
            let token = try await signer.sign(Self.claims())
            #expect(try await Self.call("counter", headers: Self.bearer(token), port: port).status == 200)
            // An HS256 token is refused: no HMAC key is configured, whatever it was signed with.
            let hs = try await Self.hs256(Self.claims())
            let refused = try await Self.call("counter", headers: Self.bearer(hs), port: port)
            #expect(refused.status == 401)
            #expect(refused.body.contains("bad_signature"))
            // Not a JWT, and no static tokens: malformed.
            #expect(try await Self.call("counter", headers: Self.bearer("opaque-token"), port: port).body.contains("malformed"))
        }
    }

    @Test func issuerAudienceAndTheAdminClaimAreChecked() async throws {
        try await GatewayHarness.withGateway(try Self.settings(issuer: "https://issuer.example", audience: "locality"),
                                             context: ClusterEndpointTests.context()) { _, port in
            let good = try await Self.hs256(Self.claims(admin: true, iss: "https://issuer.example", aud: "locality"))
            #expect(try await RawHTTPClient.request("GET", "/v1/cluster/members", headers: Self.bearer(good), port: port).status == 200)
            let notAdmin = try await Self.hs256(Self.claims(iss: "https://issuer.example", aud: "locality"))
            #expect(try await RawHTTPClient.request("GET", "/v1/cluster/members", headers: Self.bearer(notAdmin), port: port).status == 403)
            let wrongIssuer = try await Self.hs256(Self.claims(admin: true, iss: "https://evil.example", aud: "locality"))
            let noIssuer = try await Self.hs256(Self.claims(admin: true, aud: "locality"))
            let wrongAudience = try await Self.hs256(Self.claims(admin: true, iss: "https://issuer.example", aud: "other"))
            for token in [wrongIssuer, noIssuer, wrongAudience] {
                let response = try await RawHTTPClient.request("GET", "/v1/cluster/members", headers: Self.bearer(token), port: port)
                #expect(response.status == 401)
                #expect(response.body.contains("invalid_claims"))
            }
        }
    }

    // MARK: the Swift client

    @Test func localityClientSendsItsBearerToken() async throws {
        try await GatewayHarness.withGateway(try Self.settings(), context: GatewayContext(invoker: FakeInvoker.echo())) { _, port in
            let client = try LocalityClient(nodes: ["127.0.0.1:\(port)"], bearerToken: Self.counterToken)
            let answer = try await client.call("counter", "k1", "increment", arguments: Array("{}".utf8))
            #expect(String(decoding: answer, as: UTF8.self).contains("\"kind\":\"counter\""))
            do {
                _ = try await client.call("player", "k1", "increment")
                Issue.record("a call to another kind was answered")
            } catch let error as LocalityClientError {
                #expect(error.status == 403)
                #expect(error.code == "forbidden")
            }
            await client.close()

            let anonymous = try LocalityClient(nodes: ["127.0.0.1:\(port)"])
            do {
                _ = try await anonymous.call("counter", "k1", "increment")
                Issue.record("an anonymous call was answered")
            } catch let error as LocalityClientError {
                #expect(error.status == 401)
                #expect(error.code == "unauthorized")
            }
            await anonymous.close()
            #expect(throws: LocalityError.self) { _ = try LocalityClient(nodes: ["127.0.0.1:1"], bearerToken: "two words") }
        }
    }
}

/// The pieces without a server: header parsing, path rules, the cache bound, the log limit.
@Suite("Gateway authentication parts")
struct GatewayAuthPartsTests {
    @Test func bearerHeaderParsing() {
        #expect(GatewayAuthenticator.bearerToken("Bearer abc") == "abc")
        #expect(GatewayAuthenticator.bearerToken("BEARER   abc.def-_~+/=  ") == "abc.def-_~+/=")
        #expect(GatewayAuthenticator.bearerToken("Bearer") == nil)
        #expect(GatewayAuthenticator.bearerToken("Bearer ") == nil)
        #expect(GatewayAuthenticator.bearerToken("Bearerabc") == nil)
        #expect(GatewayAuthenticator.bearerToken("Bearer a b") == nil)
        #expect(GatewayAuthenticator.bearerToken("Basic abc") == nil)
        #expect(GatewayAuthenticator.bearerToken("Bearer ab\"c") == nil)
    }

    @Test func pathsMapToTheRightTheyNeed() {
        #expect(GatewayAccess(path: "/healthz") == .open)
        #expect(GatewayAccess(path: "/readyz") == .open)
        #expect(GatewayAccess(path: "/openapi.yaml") == .open)
        #expect(GatewayAccess(path: "/") == .open)
        #expect(GatewayAccess(path: "/healthz/") == .admin)
        #expect(GatewayAccess(path: "/v1/actors/counter/k/m") == .actor(kind: "counter"))
        #expect(GatewayAccess(path: "/v1/actors/c%6Funter/k/m") == .actor(kind: "counter"))
        #expect(GatewayAccess(path: "//v1//actors/player/k/m") == .actor(kind: "player"))
        #expect(GatewayAccess(path: "/v1/actors/") == .actor(kind: ""))
        #expect(GatewayAccess(path: "/v1/actors//player/k/m") == .actor(kind: "player"))
        for path in ["/v1/cluster/members", "/v1/stats", "/metrics", "/v1/other", "/anything"] {
            #expect(GatewayAccess(path: path) == .admin, "\(path)")
        }
    }

    @Test func staticTokenDigestsMatchOnlyTheirToken() async throws {
        let authenticator = GatewayAuthenticator(settings: GatewayAuthSettings(tokens: [
            GatewayToken(name: "a", token: "token-a-0123456789", kinds: .only(["x"])),
        ]))
        guard case .accepted(let principal) = await authenticator.principal(for: "token-a-0123456789") else {
            Issue.record("the token was refused")
            return
        }
        #expect(principal.name == "a")
        guard case .rejected(.unknownToken, _) = await authenticator.principal(for: "token-a-0123456788") else {
            Issue.record("a near miss was accepted")
            return
        }
        #expect(throws: LocalityError.self) { _ = try GatewayToken(name: "short", sha256: [1, 2, 3], kinds: .all) }
        #expect(TokenDigest(SHA256.hash(data: Array("x".utf8))) == TokenDigest(Array(SHA256.hash(data: Array("x".utf8)))))
    }

    @Test func jwtSettingsRefuseBadKeys() {
        #expect(throws: LocalityError.self) { _ = try GatewayJWTSettings() }
        #expect(throws: LocalityError.self) { _ = try GatewayJWTSettings(hmacSecret: Array("short".utf8)) }
        #expect(throws: LocalityError.self) { _ = try GatewayJWTSettings(publicKeyPEM: "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n") }
        #expect(throws: LocalityError.self) {
            _ = try GatewayJWTSettings(hmacSecret: Array(repeating: 7, count: 32), cacheCapacity: 0)
        }
    }

    @Test func theVerifiedTokenCacheStaysWithinItsBound() {
        let cache = VerifiedTokenCache(capacity: 8)
        let now = Date()
        let principal = GatewayPrincipal(name: "p", kinds: .all, isAdmin: false)
        for index in 0..<100 {
            cache.insert("token-\(index)", .init(principal: principal, expires: now.addingTimeInterval(60)), now: now)
            #expect(cache.count <= 8)
        }
        #expect(cache.entry(for: "token-99", now: now) != nil)
        // Expired entries are dropped when found and when the cache is full.
        let later = now.addingTimeInterval(2)
        cache.insert("old", .init(principal: principal, expires: now.addingTimeInterval(1)), now: now)
        #expect(cache.entry(for: "old", now: later).map { $0.expires <= later } == true)
        #expect(cache.entry(for: "old", now: later) == nil)
    }

    @Test func rejectionLogLinesAreRateLimitedPerReason() {
        let log = AuthRejectionLog(logger: .init(label: "test"), interval: .seconds(10))
        let start = ContinuousClock.now
        #expect(log.record(.missing, detail: "d", path: "/p", client: "c", now: start))
        #expect(!log.record(.missing, detail: "d", path: "/p", client: "c", now: start + .seconds(1)))
        #expect(log.record(.expired, detail: "d", path: "/p", client: "c", now: start + .seconds(1)))
        #expect(log.record(.missing, detail: "d", path: "/p", client: "c", now: start + .seconds(11)))
    }
}
