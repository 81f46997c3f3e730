import LocalityCore
import LocalityMembership

/// A simulated member: the production `SWIMCore` driven by the simulator. Node i listens
/// at 10.0.0.1:(10000 + i); `.stream` directives become reliable sends.
public struct SWIMSimNode: SimProcess {
    /// SWIM envelopes, as the real shell would carry them.
    public typealias Message = SWIMEnvelope
    /// The core's membership events, for the experiment to measure.
    public typealias Observation = MembershipEvent

    /// The production SWIM core this node runs.
    public var core: SWIMCore
    /// Addresses to join through when started (empty: the core was bootstrapped).
    public var seeds: [NodeAddress]

    /// A member running `core`, joining through `seeds` when started.
    public init(core: SWIMCore, seeds: [NodeAddress] = []) {
        self.core = core
        self.seeds = seeds
    }

    /// Port of node 0; node i listens at `basePort + i`.
    public static let basePort = 10_000

    /// The address of node `index` (10.0.0.1:`basePort + index`).
    public static func address(of index: Int) -> NodeAddress {
        NodeAddress(host: "10.0.0.1", port: basePort + index)
    }

    /// The node index behind a simulated address.
    public static func index(of address: NodeAddress) -> Int { address.port - basePort }

    public mutating func start(now: Timestamp) -> [SimEffect<SWIMEnvelope, MembershipEvent>] {
        // Directives first, then a static conversion: `effects(core.…)` on self would load a
        // copy of `self` before mutating `core`, and every table write would copy the table.
        let directives = core.join(seeds: seeds, now: now)
        return Self.effects(directives, overhead: core.settings.envelopeOverheadBytes)
    }

    public mutating func receive(_ message: SWIMEnvelope, from: Int, reliable: Bool, now: Timestamp)
        -> [SimEffect<SWIMEnvelope, MembershipEvent>]
    {
        let directives = core.receive(message, via: reliable ? .stream : .datagram, now: now)
        return Self.effects(directives, overhead: core.settings.envelopeOverheadBytes)
    }

    public mutating func deliveryFailed(_ message: SWIMEnvelope, to: Int, now: Timestamp)
        -> [SimEffect<SWIMEnvelope, MembershipEvent>]
    {
        let directives = core.streamFailed(to: Self.address(of: to), now: now)
        return Self.effects(directives, overhead: core.settings.envelopeOverheadBytes)
    }

    public mutating func deliveryFailed(
        _ message: SWIMEnvelope, to: Int, reason: SimDeliveryFailure, now: Timestamp
    ) -> [SimEffect<SWIMEnvelope, MembershipEvent>] {
        let failure: SWIMStreamFailure = reason == .refused ? .refused : .other
        let directives = core.streamFailed(to: Self.address(of: to), reason: failure, now: now)
        return Self.effects(directives, overhead: core.settings.envelopeOverheadBytes)
    }

    public mutating func tick(now: Timestamp) -> [SimEffect<SWIMEnvelope, MembershipEvent>] {
        let directives = core.tick(now: now)
        return Self.effects(directives, overhead: core.settings.envelopeOverheadBytes)
    }

    public var nextDeadline: Timestamp { core.nextDeadline }

    private static func effects(_ directives: [SWIMDirective], overhead: Int)
        -> [SimEffect<SWIMEnvelope, MembershipEvent>]
    {
        directives.map { directive in
            switch directive {
            case let .send(envelope, to, via):
                .send(
                    envelope, to: Self.index(of: to), reliable: via == .stream,
                    bytes: envelope.estimatedEncodedSize(overhead: overhead))
            case let .event(event):
                .observe(event)
            }
        }
    }
}
