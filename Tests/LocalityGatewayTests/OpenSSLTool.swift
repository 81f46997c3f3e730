import Foundation

/// The `openssl` command line tool, to make keys and self-signed certificates for tests.
enum OpenSSLTool {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let path = ["/usr/bin/openssl", "/usr/local/bin/openssl", "/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs `openssl arguments` in `directory`; throws with its output when it fails.
    static func run(_ arguments: [String], in directory: URL) throws {
        guard let path else { throw Failure(description: "openssl not found") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure(description: "openssl \(arguments.joined(separator: " ")): \(text)") }
    }

    /// A new temporary directory.
    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("locality-openssl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// A 2048-bit RSA private key in PEM.
    static func rsaPrivateKeyPEM() throws -> String {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try run(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "key.pem"], in: directory)
        return try String(contentsOf: directory.appendingPathComponent("key.pem"), encoding: .utf8)
    }

    /// A self-signed EC P-256 certificate for `localhost` and 127.0.0.1, valid two days, and
    /// its key: `cert.pem` and `key.pem` in a new temporary directory (returned).
    static func selfSignedCertificate() throws -> URL {
        let directory = try temporaryDirectory()
        try run([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "key.pem", "-out", "cert.pem",
            "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ], in: directory)
        return directory
    }
}
