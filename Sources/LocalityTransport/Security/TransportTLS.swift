import Foundation
import LocalityCore
import Logging
import NIOCertificateReloading
import NIOSSL
import X509

/// The TLS contexts of one transport (mutual TLS, TLS 1.3 only), built from
/// `TransportTLSSettings`, with the certificate and key reloaded from their files by
/// swift-nio-extras' `TimedCertificateReloader` while `run()` runs.
final class TransportTLS: Sendable {
    /// Wraps inbound connections: requires and verifies the peer's certificate.
    let serverContext: NIOSSLContext
    /// Wraps outbound connections: presents this node's certificate, verifies the peer's.
    let clientContext: NIOSSLContext
    private let reloader: TimedCertificateReloader

    /// Loads the files; a missing or unreadable file, a key that does not match the
    /// certificate, an expired certificate or an empty CA bundle is a `badRequest` error
    /// naming the file and the problem.
    init(settings: TransportTLSSettings, metrics: TransportMetrics, logger: Logger) throws(LocalityError) {
        let configuration = TimedCertificateReloader.Configuration(
            refreshInterval: settings.reloadInterval,
            certificateSource: .init(location: .file(path: settings.certificatePath), format: .pem),
            privateKeySource: .init(location: .file(path: settings.privateKeyPath), format: .pem)
        ) { configuration in
            configuration.onCertificateLoaded = { diff in
                guard let previous = diff.previousX509CertificateChain, previous != diff.currentX509CertificateChain else { return }
                metrics.recordTLSReload(succeeded: true)
                logger.notice("transport TLS certificate reloaded", metadata: [
                    "certificate": "\(settings.certificatePath)",
                    "not_valid_after": "\(diff.currentX509CertificateChain.first.map { "\($0.notValidAfter)" } ?? "?")",
                ])
            }
            configuration.onCertificateLoadFailed = { failure in
                metrics.recordTLSReload(succeeded: false)
                logger.warning("transport TLS certificate reload failed; keeping the certificate in use", metadata: [
                    "certificate": "\(settings.certificatePath)", "key": "\(settings.privateKeyPath)", "error": "\(failure.error)",
                ])
            }
        }
        do {
            reloader = try TimedCertificateReloader.makeReloaderValidatingSources(configuration: configuration)
        } catch {
            throw LocalityError(.badRequest, "transport TLS: cannot use certificate \(settings.certificatePath) with key \(settings.privateKeyPath): \(error)")
        }
        try Self.checkNotExpired(settings.certificatePath)
        let trustRoots: [NIOSSLCertificate]
        do {
            trustRoots = try NIOSSLCertificate.fromPEMFile(settings.trustRootsPath)
        } catch {
            throw LocalityError(.badRequest, "transport TLS: cannot read CA bundle \(settings.trustRootsPath): \(error)")
        }
        guard !trustRoots.isEmpty else {
            throw LocalityError(.badRequest, "transport TLS: CA bundle \(settings.trustRootsPath) holds no certificate")
        }
        do {
            var server = try TLSConfiguration.makeServerConfigurationWithMTLS(
                certificateReloader: reloader, trustRoots: .certificates(trustRoots)
            )
            server.minimumTLSVersion = .tlsv13
            var client = try TLSConfiguration.makeClientConfiguration(certificateReloader: reloader)
            client.trustRoots = .certificates(trustRoots)
            client.certificateVerification = .noHostnameVerification
            client.minimumTLSVersion = .tlsv13
            serverContext = try NIOSSLContext(configuration: server)
            clientContext = try NIOSSLContext(configuration: client)
        } catch {
            throw LocalityError(.badRequest, "transport TLS: \(error)")
        }
    }

    /// Reads the certificate and key again every `reloadInterval` until cancelled.
    func run() async {
        try? await reloader.run()
    }

    private static func checkNotExpired(_ path: String) throws(LocalityError) {
        guard let leaf = try? NIOSSLCertificate.fromPEMFile(path).first else { return }
        let now = time(nil)
        if leaf.notValidAfter < now {
            throw LocalityError(.badRequest, "transport TLS: certificate \(path) expired at \(Date(timeIntervalSince1970: TimeInterval(leaf.notValidAfter)))")
        }
        if leaf.notValidBefore > now {
            throw LocalityError(.badRequest, "transport TLS: certificate \(path) is not valid before \(Date(timeIntervalSince1970: TimeInterval(leaf.notValidBefore)))")
        }
    }
}
