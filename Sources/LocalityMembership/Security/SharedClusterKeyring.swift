import Synchronization

/// The keyring a running node uses now, replaceable without a restart: gossip reads it
/// for every seal and open, the transport handshake for every proof, and
/// `ClusterKeyFileWatcher` replaces it when the key file changes. Thread-safe; reads take
/// a lock for the time of a struct copy.
public final class SharedClusterKeyring: Sendable {
    private struct State {
        var keyring: ClusterKeyring
        var generation: UInt64
    }

    private let state: Mutex<State>

    /// Holds `keyring` as generation 1.
    public init(_ keyring: ClusterKeyring) {
        state = Mutex(State(keyring: keyring, generation: 1))
    }

    /// The keyring in force.
    public var current: ClusterKeyring { state.withLock { $0.keyring } }

    /// How many keyrings have been in force: 1 at start, one more per `replace`.
    public var generation: UInt64 { state.withLock { $0.generation } }

    /// Puts `keyring` in force for every later seal, open and proof; returns the new
    /// generation.
    @discardableResult
    public func replace(with keyring: ClusterKeyring) -> UInt64 {
        state.withLock { state in
            state.keyring = keyring
            state.generation += 1
            return state.generation
        }
    }
}
