import ArgumentParser
import LocalityMembership

/// Reads `--cluster-key-file` (format documented on `ClusterKeyring`) for the commands
/// that take the file directly (`locality members`), as a usage error.
enum ClusterKeyFile {
    static func load(_ path: String) throws -> ClusterKeyring {
        do {
            return try ClusterKeyring(contentsOfFile: path)
        } catch {
            throw ValidationError("cluster key file \(path): \(error.message)")
        }
    }
}
