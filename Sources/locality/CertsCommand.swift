import ArgumentParser
import Foundation
import LocalityTransport

/// `locality certs`: a throwaway CA and one certificate per node for mutual TLS between
/// nodes in development (`--tls-cert`, `--tls-key`, `--tls-ca`). The CA's key is not
/// written: run it again to make a new set.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Write a development CA (ca.pem) and a certificate and key per node (NAME.crt, NAME.key) for node-to-node TLS."
    )

    @Option(help: "Directory to write into (created if missing).")
    var out: String = "certs"

    @Option(help: "Node names, comma separated.")
    var nodes: String = "n1,n2,n3"

    @Option(help: "Host names and IPv4 addresses the certificates name, comma separated.")
    var hosts: String = "localhost,127.0.0.1"

    @Option(help: "Days the certificates are valid.")
    var days: Int = 365

    func validate() throws {
        guard (1...3650).contains(days) else { throw ValidationError("--days must be 1…3650") }
        guard !names.isEmpty, names.allSatisfy({ $0.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) } }) else {
            throw ValidationError("--nodes must be names of letters, digits, '-', '_' or '.'")
        }
    }

    private var names: [String] { nodes.split(separator: ",").map(String.init) }

    func run() throws {
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let authority = try DevelopmentCertificates(name: "Locality development CA", days: days)
        try write(authority.bundlePEM(), to: "ca.pem", mode: 0o644)
        for name in names {
            let pair = try authority.issue(name, hosts: hosts.split(separator: ",").map(String.init), days: Double(days))
            try write(pair.certificate, to: "\(name).crt", mode: 0o644)
            try write(pair.key, to: "\(name).key", mode: 0o600)
        }
        print("wrote \(out)/ca.pem and \(names.map { "\($0).crt, \($0).key" }.joined(separator: "; ")) (valid \(days) days)")
    }

    private func write(_ text: String, to file: String, mode: Int) throws {
        let path = (out as NSString).appendingPathComponent(file)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }
}
