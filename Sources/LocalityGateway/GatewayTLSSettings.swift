import LocalityCore
import NIOSSL

/// HTTPS for the gateway: a PEM certificate chain (the server's certificate first) and its
/// PEM private key, read and checked when the settings are made, so a missing file, a bad
/// PEM or a key that does not match the certificate stops the node at start. TLS 1.2 or
/// later; no client certificates (clients authenticate with bearer tokens). The files are
/// read once: a renewed certificate needs a restart.
public struct GatewayTLSSettings: Sendable {
    /// The certificate chain file.
    public let certificateFile: String
    /// The private key file.
    public let keyFile: String
    let configuration: TLSConfiguration

    /// Settings from `certificateFile` and `keyFile`; throws `bad_request` saying which file is wrong.
    public init(certificateFile: String, keyFile: String) throws(LocalityError) {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
        } catch {
            throw LocalityError(.badRequest, "cannot read a PEM certificate chain from \(certificateFile)")
        }
        guard !chain.isEmpty else { throw LocalityError(.badRequest, "\(certificateFile) holds no PEM certificate") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            throw LocalityError(.badRequest, "cannot read a PEM private key from \(keyFile)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw LocalityError(.badRequest, "the key in \(keyFile) does not go with the certificate in \(certificateFile) (\(error))")
        }
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.configuration = configuration
    }
}
