import Foundation
import LocalityClient
import LocalityCore
import LocalityGateway
import LocalityLauncher
import LocalityServer
import Logging
import ServiceLifecycle
import Testing

/// The gateway's authentication settings (`http-tokens-file`, `http-jwt-…`): parsed into
/// `NodeConfiguration.httpAuth`, bad values stop the node at start, and a node built from
/// them refuses calls without a token and answers the token's kinds.
@Suite struct GatewayAuthSettingsTests {
    /// SHA-256 of `orders-token-0123456789` and of `ops-token-0123456789abc`
    /// (`printf %s TOKEN | sha256sum`).
    static let ordersDigest = "123c584f4a81f33410bea3456f4f11f97bc7dc33517462ae3b1aec444fd508f0"
    static let opsDigest = "603c686d9927bb37b2f003b0755d60883fc727972859677705bb83c4732c0f37"
    /// An EC P-256 public key (ES256), made with `openssl ecparam -name prime256v1 -genkey -noout | openssl ec -pubout`.
    static let ecPublicKeyPEM = """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEPzPNqXe+4FYatvOAZ9eiMSKZP0CU
        gvwyenbfmGBy122vsqMm4SXpVT6KKvv7Qunyi4HCFze9TQoriUZIUm2uBg==
        -----END PUBLIC KEY-----

        """

    let directory: URL
    let keyFile: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("locality-auth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        keyFile = directory.appendingPathComponent("cluster.key").path
        try "00112233445566778899aabbccddeeff".write(toFile: keyFile, atomically: true, encoding: .utf8)
    }

    func write(_ text: String, as name: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func load(_ flags: [String: String], environment: [String: String] = [:]) async throws(NodeConfigurationErrors) -> NodeConfiguration {
        var all = ["name": "n1", "bind": "127.0.0.1:7001", "cluster-key-file": keyFile]
        all.merge(flags) { $1 }
        return try await NodeConfiguration.load(flags: all, environment: environment)
    }

    /// The problems `flags` produce, or nil when they load.
    func problems(_ flags: [String: String]) async -> String? {
        do {
            _ = try await load(flags)
            return nil
        } catch {
            return error.description
        }
    }

    var tokensYAML: String {
        """
        tokens:
          - name: orders
            sha256: "\(Self.ordersDigest)"
            kinds: [whereabouts]
          - name: ops
            sha256: "\(Self.opsDigest)"
            admin: true
          - name: everything
            token: every-kind-token-0123456789
            kinds: ["*"]
        """
    }

    @Test func aTokensFileInYAMLOrJSONLoadsIntoTheConfiguration() async throws {
        let yaml = try write(tokensYAML, as: "tokens.yaml")
        let fromYAML = try await load(["http-tokens-file": yaml])
        let tokens = try #require(fromYAML.httpAuth?.tokens)
        #expect(tokens.map(\.name) == ["orders", "ops", "everything"])
        #expect(tokens[0].kinds == .only(["whereabouts"]))
        #expect(!tokens[0].isAdmin)
        #expect(tokens[1].isAdmin && tokens[1].kinds == .only([]))
        #expect(tokens[2].kinds == .all)
        #expect(tokens[0].sha256.map { String(format: "%02x", $0) }.joined() == Self.ordersDigest)
        #expect(fromYAML.httpAuth?.jwt == nil)

        let json = try write("""
            {"tokens": [{"name": "orders", "sha256": "\(Self.ordersDigest)", "kinds": ["whereabouts"], "admin": false}]}
            """, as: "tokens.json")
        let fromJSON = try await load([:], environment: ["LOCALITY_HTTP_TOKENS_FILE": json])
        #expect(fromJSON.httpAuth?.tokens.map(\.name) == ["orders"])
        // No token source: authentication stays off.
        #expect(try await load([:]).httpAuth == nil)
    }

    @Test func jwtKeysIssuerAndAudienceLoad() async throws {
        let secret = try write("a shared HS256 secret that is long enough\n", as: "jwt.secret")
        let pem = try write(Self.ecPublicKeyPEM, as: "jwt.pem")
        let configuration = try await load([
            "http-jwt-hmac-secret-file": secret, "http-jwt-public-key-file": pem, "http-jwt-issuer": "https://issuer.example",
            "http-jwt-audience": "locality",
        ])
        let jwt = try #require(configuration.httpAuth?.jwt)
        #expect(jwt.algorithms == ["HS256", "ES256"])
        #expect(jwt.issuer == "https://issuer.example")
        #expect(jwt.audience == "locality")
        #expect(configuration.httpAuth?.tokens.isEmpty == true)
    }

    @Test func badAuthSettingsStopTheNodeWithAClearError() async throws {
        let missing = await problems(["http-tokens-file": directory.appendingPathComponent("absent.yaml").path])
        #expect(missing?.contains("http-tokens-file") == true && missing?.contains("cannot read") == true, "\(missing ?? "loaded")")

        let empty = try write("tokens: []\n", as: "empty.yaml")
        #expect(await problems(["http-tokens-file": empty])?.contains("lists no token") == true)

        let badDigest = try write("tokens:\n  - {name: a, sha256: \"abc\"}\n", as: "digest.yaml")
        #expect(await problems(["http-tokens-file": badDigest])?.contains("64 hex digits") == true)

        let misspelled = try write("tokens:\n  - {name: a, sha256: \"\(Self.ordersDigest)\", kind: [x]}\n", as: "typo.yaml")
        #expect(await problems(["http-tokens-file": misspelled])?.contains("unknown key 'kind'") == true)

        let both = try write("tokens:\n  - {name: a, sha256: \"\(Self.ordersDigest)\", token: some-token-0123456789}\n", as: "both.yaml")
        #expect(await problems(["http-tokens-file": both])?.contains("exactly one of") == true)

        let twice = try write("tokens:\n  - {name: a, sha256: \"\(Self.ordersDigest)\"}\n  - {name: a, sha256: \"\(Self.opsDigest)\"}\n", as: "twice.yaml")
        #expect(await problems(["http-tokens-file": twice])?.contains("used twice") == true)

        let notYAML = try write("tokens: [\n", as: "broken.yaml")
        #expect(await problems(["http-tokens-file": notYAML])?.contains("does not parse") == true)

        let shortSecret = try write("short\n", as: "short.secret")
        let secretProblem = await problems(["http-jwt-hmac-secret-file": shortSecret])
        #expect(secretProblem?.contains("http-jwt-hmac-secret-file") == true && secretProblem?.contains("at least 32") == true)

        let badPEM = try write("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", as: "bad.pem")
        let pemProblem = await problems(["http-jwt-public-key-file": badPEM])
        #expect(pemProblem?.contains("http-jwt-public-key-file") == true && pemProblem?.contains("PEM") == true)

        #expect(await problems(["http-jwt-issuer": "https://issuer.example"])?.contains("without a JWT key") == true)
    }

    /// A self-signed certificate and its key made by the `openssl` tool in this test's directory.
    func selfSignedCertificate(_ name: String) throws -> (certificate: String, key: String) {
        let certificate = directory.appendingPathComponent("\(name).cert.pem").path
        let key = directory.appendingPathComponent("\(name).key.pem").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", certificate,
            "-days", "2", "-subj", "/CN=localhost",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "openssl failed")
        return (certificate, key)
    }

    @Test func httpsSettingsLoadAndBadOnesStopTheNode() async throws {
        let good = try selfSignedCertificate("good")
        let other = try selfSignedCertificate("other")
        let configuration = try await load(["http-tls-cert": good.certificate, "http-tls-key": good.key])
        #expect(configuration.httpTLS?.certificateFile == good.certificate)
        #expect(try await load([:]).httpTLS == nil)

        let onlyCertificate = await problems(["http-tls-cert": good.certificate])
        #expect(onlyCertificate?.contains("http-tls-key") == true && onlyCertificate?.contains("needs both") == true, "\(onlyCertificate ?? "loaded")")
        let onlyKey = await problems(["http-tls-key": good.key])
        #expect(onlyKey?.contains("http-tls-cert") == true, "\(onlyKey ?? "loaded")")
        let mismatch = await problems(["http-tls-cert": good.certificate, "http-tls-key": other.key])
        #expect(mismatch?.contains("does not go with the certificate") == true, "\(mismatch ?? "loaded")")
        let missing = await problems(["http-tls-cert": directory.appendingPathComponent("absent.pem").path, "http-tls-key": good.key])
        #expect(missing?.contains("http-tls-cert") == true && missing?.contains("cannot read") == true, "\(missing ?? "loaded")")
    }

    @Test(.timeLimit(.minutes(1)))
    func aNodeWithATokensFileRefusesCallsWithoutATokenAndAnswersTheTokensKinds() async throws {
        let tokens = try write(tokensYAML, as: "tokens.yaml")
        let ports = try await LoopbackPorts.free(1)
        try #require(ports.count == 1)
        var configuration = try await load([
            "bind": "127.0.0.1:\(ports[0])", "http": "127.0.0.1:0", "transport": "127.0.0.1:0", "store": "memory", "http-tokens-file": tokens,
        ])
        configuration.swim.probeInterval = .milliseconds(200)
        let node = try await LocalityNode.start(configuration, kinds: LocalityNodeTests.kinds, bootstrapMetrics: false)
        let group = ServiceGroup(configuration: .init(services: [.init(service: node)], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var port: Int?
            for _ in 0..<400 where port == nil {
                port = node.gateway?.boundPort
                if port == nil { try await Task.sleep(for: .milliseconds(50)) }
            }
            let gateway = "127.0.0.1:\(try #require(port, "the gateway never listened"))"

            let orders = try LocalityClient(nodes: [gateway], bearerToken: "orders-token-0123456789")
            var answered = false
            for _ in 0..<100 where !answered {
                // The node routes once it has joined itself; until then calls answer 503.
                if let answer = try? await orders.call("whereabouts", "k1", "node") {
                    #expect(String(decoding: answer, as: UTF8.self) == "\"n1\"")
                    answered = true
                } else {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            #expect(answered, "the token's kind was never answered")
            await orders.close()

            let anonymous = try LocalityClient(nodes: [gateway])
            do {
                _ = try await anonymous.call("whereabouts", "k1", "node")
                Issue.record("a call without a token was answered")
            } catch let error as LocalityClientError {
                #expect(error.status == 401 && error.code == "unauthorized")
            }
            await anonymous.close()
            let admin = try LocalityClient(nodes: [gateway], bearerToken: "ops-token-0123456789abc")
            do {
                _ = try await admin.call("whereabouts", "k1", "node")
                Issue.record("an admin token without kinds called an actor")
            } catch let error as LocalityClientError {
                #expect(error.status == 403 && error.code == "forbidden")
            }
            await admin.close()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
