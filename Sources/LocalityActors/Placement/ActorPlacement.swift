/// Where a virtual actor's first call activates it (`ActorSettings.placement`).
///
/// `.hashOwner` (the default) runs every actor on the ring owner of `kind/key`: every node
/// computes the same owner, no directory is consulted. The other modes are
/// **directory-backed** (Orleans' grain directory): the caller looks the activation up in
/// the activation directory (`DirectoryService`, cached); when there is none it picks a
/// node with the strategy, registers it there (first writer wins) and sends the call to
/// it. They need a directory: `ClusterSystem.attach(router:resolver:directory:)`.
public enum ActorPlacement: Sendable, Equatable, CustomStringConvertible {
    /// The ring owner of the actor's routing key (Orleans `HashBasedPlacement`).
    case hashOwner
    /// The calling node (Orleans `PreferLocalPlacement`).
    case preferLocal
    /// The power of two random choices by activation count: two distinct members drawn
    /// from a `SeededRandom` (seeded with `seed` XOR the node's uid), the less loaded wins.
    case twoChoices(seed: UInt64)
    /// A member drawn uniformly from a `SeededRandom` (Orleans `RandomPlacement`).
    case random(seed: UInt64)

    /// Whether calls consult the activation directory.
    public var usesDirectory: Bool { self != .hashOwner }

    /// Parses the CLI spelling: `hash`, `prefer-local`, `two-choices`, `random`.
    public init?(name: String, seed: UInt64 = 0) {
        switch name {
        case "hash", "hash-owner": self = .hashOwner
        case "prefer-local": self = .preferLocal
        case "two-choices": self = .twoChoices(seed: seed)
        case "random": self = .random(seed: seed)
        default: return nil
        }
    }

    /// The mode's name as `--placement` spells it: `hash`, `prefer-local`, `two-choices` or `random`.
    public var description: String {
        switch self {
        case .hashOwner: "hash"
        case .preferLocal: "prefer-local"
        case .twoChoices: "two-choices"
        case .random: "random"
        }
    }
}
