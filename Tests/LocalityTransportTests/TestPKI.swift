import Foundation
import LocalityTransport

/// A throwaway certificate authority for the TLS tests (`DevelopmentCertificates`), its
/// files in a temporary directory.
struct TestPKI {
    let authority: DevelopmentCertificates
    let directory: URL

    init(name: String, directory: URL) throws {
        authority = try DevelopmentCertificates(name: name)
        self.directory = directory
    }

    /// A temporary directory for one test's files.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("locality-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes this CA's certificate as a bundle file and returns its path.
    func writeBundle() throws -> String {
        let path = directory.appendingPathComponent("\(authority.name)-bundle.pem").path
        try authority.bundlePEM().write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Issues a node certificate and writes it and its key; `expired` dates it in the past.
    func issue(_ node: String, expired: Bool = false, file: String? = nil) throws -> (certificate: String, key: String) {
        let pair = try expired
            ? authority.issue(node, validFrom: Date() - 172_800, days: 1)
            : authority.issue(node)
        let base = directory.appendingPathComponent(file ?? "\(authority.name)-\(node)").path
        try pair.certificate.write(toFile: base + ".crt", atomically: true, encoding: .utf8)
        try pair.key.write(toFile: base + ".key", atomically: true, encoding: .utf8)
        return (base + ".crt", base + ".key")
    }

    /// Transport TLS settings for `node`, trusting `bundle` (this CA by default).
    func settings(_ node: String, trusting bundle: String? = nil, reload: Duration = .seconds(30)) throws -> TransportTLSSettings {
        let files = try issue(node)
        return TransportTLSSettings(certificatePath: files.certificate, privateKeyPath: files.key,
                                    trustRootsPath: try bundle ?? writeBundle(), reloadInterval: reload)
    }
}
