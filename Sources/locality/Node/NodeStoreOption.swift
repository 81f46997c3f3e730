import ArgumentParser
import Foundation
import LocalityCore
import LocalityStorage
import Logging

/// `locality node --store`: any `StateStoreLocation` (`memory`, `sqlite:PATH`,
/// `postgres://…`); default a SQLite file in the node's data directory.
enum NodeStoreOption {
    /// Opens the store (creating a SQLite file's directory); returns it and its location
    /// as text without credentials.
    static func open(_ text: String?, dataDirectory: String, logger: Logger) async throws -> (any StateStore, String) {
        let location: StateStoreLocation
        do {
            location = try StateStoreLocation(parsing: text ?? "sqlite:\(dataDirectory)/state.sqlite")
        } catch let error as LocalityError {
            throw ValidationError("--store: \(error.message)")
        }
        if case .sqlite(let path) = location {
            let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        }
        return (try await location.open(logger: logger), location.description)
    }
}
