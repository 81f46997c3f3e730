import Foundation
import LocalityCore

/// The identity of a state store: a random id written into the store itself the first
/// time any node opens it, and read back by every later one. Two nodes whose stores
/// report the same identity share one ground truth (one PostgreSQL database, one SQLite
/// file); two that report different identities do not, and must not serve one
/// cluster's keys (a key that moves between them would lose its state).
///
/// The id lives under a reserved key (`_locality/store-identity`) and is created with
/// `ifMatch: .absent`, so nodes that open a fresh store at once agree on one id.
public enum StoreIdentity {
    /// The reserved key holding the id (no actor kind can be named `_locality`).
    public static let key = StateKey(kind: "_locality", id: "store-identity")

    /// The identity of every memory store: memory is no ground truth, and several nodes
    /// on memory stores are allowed together (tests, demos) knowing that state does not
    /// survive a key's move.
    public static let memory = "memory"

    /// Reads the store's identity, creating it if the store has none yet.
    public static func establish(in store: any StateStore) async throws -> String {
        for _ in 0..<3 {
            let current = try await store.read(key)
            if let bytes = current.value, let id = String(bytes: bytes, encoding: .utf8), !id.isEmpty { return id }
            let fresh = UUID().uuidString.lowercased()
            do {
                _ = try await store.write(key, value: Array(fresh.utf8), ifMatch: current.etag)
                return fresh
            } catch let error as LocalityError where error.code == .conflict {
                continue  // another node created it first: read theirs
            }
        }
        throw LocalityError(.conflict, "the store's identity kept changing while it was read")
    }
}
