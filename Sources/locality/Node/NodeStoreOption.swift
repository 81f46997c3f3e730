import ArgumentParser
import Foundation
import LocalityStorage
import Logging

/// `locality node --store`: `memory` or `sqlite:PATH`; default a SQLite file in the
/// node's data directory. (Stopgap until `StateStoreLocation` of LocalityStorage lands.)
enum NodeStoreOption {
    static func open(_ text: String?, dataDirectory: String, logger: Logger) async throws -> (any StateStore, String) {
        let location = text ?? "sqlite:\(dataDirectory)/state.sqlite"
        if location == "memory" { return (MemoryStateStore(), location) }
        guard location.hasPrefix("sqlite:"), location.count > "sqlite:".count else {
            throw ValidationError("--store must be memory or sqlite:PATH, got \(location)")
        }
        let path = String(location.dropFirst("sqlite:".count))
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        return (try await SQLiteStateStore.open(path: path, logger: logger), location)
    }
}
