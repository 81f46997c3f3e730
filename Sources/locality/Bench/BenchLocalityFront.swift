import ArgumentParser
import LocalityBench

/// What the `locality` and `locality-pg` systems of `bench stateful` serve the load on
/// (`--locality-front`).
enum BenchLocalityFront: String, Sendable, CaseIterable, ExpressibleByArgument {
    /// A real `LocalityNode` and its HTTP gateway (`POST /v1/actors/session/{key}/…`),
    /// as users run it; the bench front is served too, through the node, for verification.
    case gateway
    /// The shared bench front (`/v1/sessions/…`) over an in-process `ClusterSystem`.
    case bench

    /// How the load generator talks to a system served this way.
    var api: BenchAPI {
        switch self {
        case .gateway: .gateway
        case .bench: .benchFront
        }
    }
}
