import ArgumentParser
import Foundation
import LocalityMembership

/// Reads `--cluster-key-file` (format documented on `ClusterKeyring`).
enum ClusterKeyFile {
    static func load(_ path: String) throws -> ClusterKeyring {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read cluster key file \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("cluster key file \(path) is not UTF-8")
        }
        do {
            return try ClusterKeyring(fileText: text)
        } catch {
            throw ValidationError("cluster key file \(path): \(error.message)")
        }
    }
}
