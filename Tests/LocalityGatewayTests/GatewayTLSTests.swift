import Foundation
import LocalityCore
import NIOSSL
import Testing
@testable import LocalityGateway

/// HTTPS on the gateway (`GatewaySettings.tls`) with a self-signed certificate made by the
/// `openssl` tool: answers over TLS, refuses plain HTTP, works with authentication, and bad
/// files are refused when the settings are made.
@Suite("Gateway HTTPS", .timeLimit(.minutes(2)))
struct GatewayTLSTests {
    /// A client context that trusts only the certificate in `directory` (no host name check:
    /// the test connects to an IP address).
    static func clientContext(trusting directory: URL) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(directory.appendingPathComponent("cert.pem").path))
        configuration.certificateVerification = .noHostnameVerification
        return try NIOSSLContext(configuration: configuration)
    }

    static func tlsSettings(_ directory: URL) throws -> GatewayTLSSettings {
        try GatewayTLSSettings(certificateFile: directory.appendingPathComponent("cert.pem").path, keyFile: directory.appendingPathComponent("key.pem").path)
    }

    @Test func theGatewayAnswersOverTLSAndNotInPlainHTTP() async throws {
        let directory = try OpenSSLTool.selfSignedCertificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        var settings = GatewaySettings()
        settings.tls = try Self.tlsSettings(directory)
        let client = try Self.clientContext(trusting: directory)
        try await GatewayHarness.withGateway(settings, context: GatewayContext(invoker: FakeInvoker.echo())) { _, port in
            let health = try await RawHTTPClient.request("GET", "/healthz", port: port, tls: client)
            #expect(health.status == 200)
            let call = try await RawHTTPClient.request("POST", "/v1/actors/counter/k1/increment", body: "{}", port: port, tls: client)
            #expect(call.status == 200)
            #expect(call.body.contains("\"kind\":\"counter\""))
            // Plain HTTP on the TLS port gets no HTTP answer.
            let plain = try? await RawHTTPClient.request("GET", "/healthz", port: port, timeout: .seconds(10))
            #expect(plain?.status != 200)
            // A client that trusts another certificate refuses this server.
            let other = try OpenSSLTool.selfSignedCertificate()
            defer { try? FileManager.default.removeItem(at: other) }
            let stranger = try Self.clientContext(trusting: other)
            await #expect(throws: (any Error).self) {
                _ = try await RawHTTPClient.request("GET", "/healthz", port: port, tls: stranger, timeout: .seconds(10))
            }
        }
    }

    @Test func httpsAndBearerTokensTogether() async throws {
        let directory = try OpenSSLTool.selfSignedCertificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        var settings = try GatewayAuthTests.settings()
        settings.tls = try Self.tlsSettings(directory)
        let client = try Self.clientContext(trusting: directory)
        try await GatewayHarness.withGateway(settings, context: GatewayContext(invoker: FakeInvoker.echo())) { _, port in
            let anonymous = try await RawHTTPClient.request("POST", "/v1/actors/counter/k1/increment", body: "{}", port: port, tls: client)
            #expect(anonymous.status == 401)
            let authorized = try await RawHTTPClient.request(
                "POST", "/v1/actors/counter/k1/increment", body: "{}", headers: GatewayAuthTests.bearer(GatewayAuthTests.counterToken),
                port: port, tls: client)
            #expect(authorized.status == 200)
        }
    }

    @Test func missingFilesAndAKeyThatDoesNotMatchAreRefused() throws {
        let first = try OpenSSLTool.selfSignedCertificate()
        let second = try OpenSSLTool.selfSignedCertificate()
        defer {
            try? FileManager.default.removeItem(at: first)
            try? FileManager.default.removeItem(at: second)
        }
        let certificate = first.appendingPathComponent("cert.pem").path
        #expect(throws: LocalityError.self) {
            _ = try GatewayTLSSettings(certificateFile: certificate, keyFile: second.appendingPathComponent("key.pem").path)
        }
        #expect(throws: LocalityError.self) {
            _ = try GatewayTLSSettings(certificateFile: first.appendingPathComponent("absent.pem").path, keyFile: first.appendingPathComponent("key.pem").path)
        }
        #expect(throws: LocalityError.self) {
            // The certificate where the key should be.
            _ = try GatewayTLSSettings(certificateFile: certificate, keyFile: certificate)
        }
        let settings = try Self.tlsSettings(first)
        #expect(settings.certificateFile == certificate)
    }
}
