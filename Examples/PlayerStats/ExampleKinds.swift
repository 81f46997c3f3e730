import LocalityActors

/// Every example actor kind, registered at once (what `locality node` hosts).
public enum ExampleKinds {
    /// Registers `PlayerStats` (kind `player`) and `Counter` (kind `counter`) with `system`.
    public static func register(on system: ClusterSystem) throws {
        try PlayerStats.register(on: system)
        try Counter.register(on: system)
    }
}
