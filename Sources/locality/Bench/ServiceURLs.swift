import ArgumentParser
import Foundation
import Subprocess
import SystemPackage

/// The PostgreSQL and Redis servers of `bench stateful`: `scripts/services start postgres
/// redis` when that script exists (it installs and starts them on 127.0.0.1 and prints
/// `export LOCALITY_POSTGRES_URL=…` / `export LOCALITY_REDIS_URL=…`), else the URLs already
/// in the environment.
///
/// The script runs through swift-subprocess, which reaps its child itself: Foundation's
/// `Process.waitUntilExit` once waited forever here for a script that had exited (left
/// a zombie) on a fresh machine.
enum ServiceURLs {
    static func resolve(services: [String], log: (String) -> Void) async throws -> [String: String] {
        var urls: [String: String] = [:]
        let environment = ProcessInfo.processInfo.environment
        for name in ["LOCALITY_POSTGRES_URL", "LOCALITY_REDIS_URL"] { urls[name] = environment[name] }
        let script = FileManager.default.currentDirectoryPath + "/scripts/services"
        guard !services.isEmpty, FileManager.default.isExecutableFile(atPath: script) else { return urls }
        log("starting \(services.joined(separator: ", ")) with scripts/services")
        // A file, not a pipe: the servers the script daemonizes inherit its stdout, and a
        // pipe would not reach end-of-file while they run.
        let outputPath = NSTemporaryDirectory() + "locality-services-\(UUID().uuidString).out"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let output = try FileDescriptor.open(
            FilePath(outputPath), .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite])
        let result = try await run(
            .path(FilePath(script)), arguments: Arguments(["start"] + services),
            output: .fileDescriptor(output, closeAfterSpawningProcess: true), error: .currentStandardError)
        guard result.terminationStatus.isSuccess else {
            throw ValidationError("scripts/services start \(services.joined(separator: " ")) failed (\(result.terminationStatus))")
        }
        let data = FileManager.default.contents(atPath: outputPath) ?? Data()
        for (name, value) in parseExports(String(decoding: data, as: UTF8.self)) { urls[name] = value }
        return urls
    }

    /// `export NAME=value` lines (value optionally quoted).
    static func parseExports(_ text: String) -> [String: String] {
        var found: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("export "), let equals = trimmed.firstIndex(of: "=") else { continue }
            let name = trimmed[trimmed.index(trimmed.startIndex, offsetBy: 7)..<equals].trimmingCharacters(in: .whitespaces)
            var value = String(trimmed[trimmed.index(after: equals)...])
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            found[name] = value
        }
        return found
    }
}
