import LocalityActors
import LocalityServer

/// Every example actor kind, registered at once (what `locality node` hosts).
public enum ExampleKinds {
    /// Registers `PlayerStats` (kind `player`) and `Counter` (kind `counter`) with `system`.
    public static func register(on system: ClusterSystem) throws {
        try PlayerStats.register(on: system)
        try Counter.register(on: system)
    }

    /// The example kinds as a node hosts them: `player` and `counter`.
    public static let all: [ActorKind] = [
        ActorKind(name: PlayerStats.kind) { try PlayerStats.register(on: $0) },
        ActorKind(name: Counter.kind) { try Counter.register(on: $0) },
    ]
}
