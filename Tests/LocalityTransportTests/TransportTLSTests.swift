import Foundation
import LocalityCore
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import Testing
@testable import LocalityTransport

/// Mutual TLS on the node transport: certificates signed by the cluster CA connect; a
/// peer without one, with another CA's, with an expired one, or with the right
/// certificate but the wrong cluster key is refused and counted.
@Suite struct TransportTLSTests {
    private static func tlsSettings(_ tls: TransportTLSSettings) -> TransportSettings {
        var settings = TransportSettings()
        settings.tls = tls
        return settings
    }

    private static func expectRefused(_ call: () async throws -> Void) async {
        do {
            try await call()
            Issue.record("the call succeeded; expected a refusal")
        } catch let error as LocalityError {
            #expect(error.code == .unauthenticated || error.code == .unavailable, "\(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func nodesWithCertificatesFromTheClusterCACallEachOther() async throws {
        let directory = try TestPKI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try TestPKI(name: "cluster-ca", directory: directory)
        let (server, address) = try await Loopback.transport("a", settings: Self.tlsSettings(try ca.settings("a")), handler: EchoHandler())
        let (client, _) = try await Loopback.transport("b", settings: Self.tlsSettings(try ca.settings("b")), handler: EchoHandler())
        #expect(server.usesTLS && client.usesTLS)
        for index in 0..<20 {
            let reply = try await client.call(address, payload: ByteBuffer(string: "call \(index)"), deadline: Loopback.deadline(.seconds(20)))
            #expect(String(buffer: reply) == "call \(index)")
        }
        #expect(try await client.peerIdentity(address, deadline: Loopback.deadline(.seconds(20))).name == "a")
        #expect(server.counters.tlsRefused == 0 && client.counters.tlsRefused == 0)
        await client.shutdown()
        await server.shutdown()
    }

    @Test func aPlainTCPPeerIsRefusedAndCounted() async throws {
        let directory = try TestPKI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try TestPKI(name: "cluster-ca", directory: directory)
        let (server, address) = try await Loopback.transport("a", settings: Self.tlsSettings(try ca.settings("a")), handler: EchoHandler())
        let (plain, _) = try await Loopback.transport("plain", handler: EchoHandler())
        await Self.expectRefused { _ = try await plain.call(address, payload: ByteBuffer(string: "x"), deadline: Loopback.deadline(.seconds(10))) }
        try await Self.waitUntil { server.counters.tlsRefused >= 1 }
        await plain.shutdown()
        await server.shutdown()
    }

    @Test func aCertificateFromAnotherCAIsRefusedOnBothSides() async throws {
        let directory = try TestPKI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try TestPKI(name: "cluster-ca", directory: directory)
        let other = try TestPKI(name: "other-ca", directory: directory)
        let (server, address) = try await Loopback.transport("a", settings: Self.tlsSettings(try ca.settings("a")), handler: EchoHandler())
        // The intruder trusts the cluster CA but its own certificate comes from another CA.
        let intruderSettings = try other.settings("intruder", trusting: try ca.writeBundle())
        let (intruder, _) = try await Loopback.transport("intruder", settings: Self.tlsSettings(intruderSettings), handler: EchoHandler())
        await Self.expectRefused { _ = try await intruder.call(address, payload: ByteBuffer(string: "x"), deadline: Loopback.deadline(.seconds(10))) }
        try await Self.waitUntil { server.counters.tlsRefused >= 1 }
        // A client that does not trust the server's CA refuses the server.
        let (wary, _) = try await Loopback.transport("wary", settings: Self.tlsSettings(try other.settings("wary")), handler: EchoHandler())
        await Self.expectRefused { _ = try await wary.call(address, payload: ByteBuffer(string: "x"), deadline: Loopback.deadline(.seconds(10))) }
        try await Self.waitUntil { wary.counters.tlsRefused >= 1 }
        for transport in [intruder, wary, server] { await transport.shutdown() }
    }

    @Test func theRightCertificateWithTheWrongClusterKeyIsStillRefused() async throws {
        let directory = try TestPKI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try TestPKI(name: "cluster-ca", directory: directory)
        let (server, address) = try await Loopback.transport("a", settings: Self.tlsSettings(try ca.settings("a")), handler: EchoHandler())
        let (client, _) = try await Loopback.transport(
            "b", key: Array("another-cluster-key".utf8), settings: Self.tlsSettings(try ca.settings("b")), handler: EchoHandler()
        )
        do {
            _ = try await client.call(address, payload: ByteBuffer(string: "x"), deadline: Loopback.deadline(.seconds(10)))
            Issue.record("a peer with the wrong cluster key got through")
        } catch let error as LocalityError {
            #expect(error.code == .unauthenticated, "\(error)")
        }
        try await Self.waitUntil { server.counters.handshakesRefused >= 1 }
        #expect(server.counters.tlsRefused == 0)
        await client.shutdown()
        await server.shutdown()
    }

    @Test func anExpiredOrMissingClientCertificateIsRefusedByTheServer() async throws {
        let directory = try TestPKI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try TestPKI(name: "cluster-ca", directory: directory)
        let (server, address) = try await Loopback.transport("a", settings: Self.tlsSettings(try ca.settings("a")), handler: EchoHandler())
        let expired = try ca.issue("late", expired: true)
        var withExpired = TLSConfiguration.makeClientConfiguration()
        withExpired.certificateChain = try NIOSSLCertificate.fromPEMFile(expired.certificate).map { .certificate($0) }
        withExpired.privateKey = .privateKey(try NIOSSLPrivateKey(file: expired.key, format: .pem))
        withExpired.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(try ca.writeBundle()))
        withExpired.certificateVerification = .noHostnameVerification
        var withoutCertificate = withExpired
        withoutCertificate.certificateChain = []
        withoutCertificate.privateKey = nil
        for (index, configuration) in [withExpired, withoutCertificate].enumerated() {
            let before = server.counters.tlsRefused
            let answered = try await RawTLSPeer.handshakeAndSend(configuration, to: address)
            #expect(!answered, "configuration \(index) got an answer")
            try await Self.waitUntil { server.counters.tlsRefused > before }
        }
        await server.shutdown()
    }

    @Test func aBadCertificateOrKeyStopsTheTransportAtBindWithAClearError() async throws {
        let directory = try TestPKI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try TestPKI(name: "cluster-ca", directory: directory)
        let good = try ca.settings("a")
        let other = try ca.issue("b")
        var mismatched = good
        mismatched.privateKeyPath = other.key
        var expired = good
        let expiredFiles = try ca.issue("late", expired: true)
        expired.certificatePath = expiredFiles.certificate
        expired.privateKeyPath = expiredFiles.key
        var missingCA = good
        missingCA.trustRootsPath = directory.appendingPathComponent("nope.pem").path
        for (settings, words) in [(mismatched, "with key"), (expired, "expired"), (missingCA, "CA bundle")] {
            do {
                let (transport, _) = try await Loopback.transport("a", settings: Self.tlsSettings(settings), handler: EchoHandler())
                await transport.shutdown()
                Issue.record("bind succeeded with a bad \(words)")
            } catch let error as LocalityError {
                #expect(error.code == .badRequest)
                #expect(error.message.contains(words), "\(error.message)")
            }
        }
    }

    @Test func aRenewedCertificateIsUsedWithoutARestart() async throws {
        let directory = try TestPKI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try TestPKI(name: "cluster-ca", directory: directory)
        let old = try TestPKI(name: "retired-ca", directory: directory)
        let (server, address) = try await Loopback.transport("a", settings: Self.tlsSettings(try ca.settings("a")), handler: EchoHandler())
        // b starts with a certificate the cluster no longer trusts, then gets a renewed one in the same files.
        let stale = try old.issue("b", file: "b")
        let settings = TransportTLSSettings(
            certificatePath: stale.certificate, privateKeyPath: stale.key, trustRootsPath: try ca.writeBundle(), reloadInterval: .milliseconds(100)
        )
        var transportSettings = Self.tlsSettings(settings)
        transportSettings.reconnectMaxDelay = .milliseconds(200)
        let (client, _) = try await Loopback.transport("b", settings: transportSettings, handler: EchoHandler())
        await Self.expectRefused { _ = try await client.call(address, payload: ByteBuffer(string: "x"), deadline: Loopback.deadline(.seconds(10))) }
        _ = try ca.issue("b", file: "b")
        try await Self.waitUntil { client.counters.tlsReloads >= 1 }
        try await Self.waitUntil {
            (try? await client.call(address, payload: ByteBuffer(string: "y"), deadline: Loopback.deadline(.seconds(5)))) != nil
        }
        await client.shutdown()
        await server.shutdown()
    }

    @Test func nothingPlainCrossesTheWire() async throws {
        let directory = try TestPKI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try TestPKI(name: "cluster-ca", directory: directory)
        let (server, address) = try await Loopback.transport("a", settings: Self.tlsSettings(try ca.settings("a")), handler: EchoHandler())
        let (client, _) = try await Loopback.transport("b", settings: Self.tlsSettings(try ca.settings("b")), handler: EchoHandler())
        let relay = try await RecordingRelay.start(to: address)
        let marker = "MARKER-\(UUID().uuidString)"
        let reply = try await client.call(relay.address, payload: ByteBuffer(string: marker), deadline: Loopback.deadline(.seconds(20)))
        #expect(String(buffer: reply) == marker)
        let recorded = relay.recorded()
        #expect(recorded.count > marker.utf8.count)
        #expect(!recorded.contains(marker), "the marker crossed the wire in clear")
        #expect(!recorded.contains("loopback-cluster-key"))
        // The same call over plain TCP shows the marker: the check can fail.
        let (plainServer, plainAddress) = try await Loopback.transport("c", handler: EchoHandler())
        let (plainClient, _) = try await Loopback.transport("d", handler: EchoHandler())
        let plainRelay = try await RecordingRelay.start(to: plainAddress)
        _ = try await plainClient.call(plainRelay.address, payload: ByteBuffer(string: marker), deadline: Loopback.deadline(.seconds(20)))
        #expect(plainRelay.recorded().contains(marker))
        for transport in [client, server, plainClient, plainServer] { await transport.shutdown() }
        await relay.close()
        await plainRelay.close()
    }

    static func waitUntil(_ condition: () async -> Bool) async throws {
        let limit = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < limit {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("condition not met within 60 s")
    }
}
