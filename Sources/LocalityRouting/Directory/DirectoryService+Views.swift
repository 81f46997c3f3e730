import LocalityCore
import LocalityPlacement
import LocalityTransport
import NIOCore

/// Membership changes: applying views, following a resolver, re-registering hosted
/// activations (Orleans 9 `DistributedGrainDirectory` recovery, pushed by the hosts).
extension DirectoryService {
    /// Applies a new view: the partition drops entries of departed nodes and hands the
    /// entries whose partition moved to their new owners (one transport call per batch,
    /// in the core's order, each bounded by `handOffTimeout`); the cache drops entries of
    /// departed nodes. Calls must not overlap (`follow` runs them one after the other).
    ///
    /// A new owner merges a hand-off only for keys it owns in its own view, so it should
    /// apply the view first; what it drops returns by re-registration.
    @discardableResult
    public func updateRing(_ ring: HashRing) async -> DirectoryRingChange {
        let (previous, handOffs) = withState { state -> (HashRing, [DirectoryHandOff]) in
            let previous = state.directory.ring
            let handOffs = state.directory.update(ring: ring)
            state.cache.dropEntries(notOn: ring)
            return (previous, handOffs)
        }
        var failed = 0
        for handOff in handOffs {
            do {
                try await deliver(handOff)
            } catch {
                failed += 1
            }
        }
        withState { state in
            state.counters.handOffsSent += handOffs.count - failed
            state.counters.handOffsFailed += failed
        }
        return DirectoryRingChange(
            previous: previous, current: ring, handOffs: handOffs.count, handedOffEntries: handOffs.reduce(0) { $0 + $1.entries.count },
            failedHandOffs: failed)
    }

    /// Keeps the partition in step with `resolver`: applies every ring it puts in force,
    /// one at a time, until the task is cancelled. A slow update may skip intermediate
    /// views (`RingOwnerResolver.rings`), which is safe: `update(ring:)` diffs the
    /// partition against the newest view. After each applied ring, `onChange` runs before
    /// the next one is taken; the actor runtime re-registers its hosted activations there:
    /// `reRegister(hosted, from: change.previous, to: change.current, deadline:)`.
    public func follow(
        _ resolver: RingOwnerResolver, onChange: @escaping @Sendable (DirectoryRingChange) async -> Void = { _ in }
    ) async {
        for await ring in resolver.rings() {
            if Task.isCancelled { return }
            if ring != self.ring { await onChange(await updateRing(ring)) }
        }
    }

    /// The hosts' recovery rule: of the activations this node hosts, re-registers (in the
    /// order given) those whose partition owner differs between `old` and `new`, so a
    /// partition lost with its node is rebuilt and a moved one is confirmed. The host
    /// deactivates every `lost` activation.
    public func reRegister(
        _ hosted: [DirectoryEntry], from old: HashRing, to new: HashRing, deadline: NIODeadline
    ) async -> [DirectoryReRegistration] {
        let moved = Set(ActivationDirectory.reRegistrations(of: hosted.map(\.key), from: old, to: new))
        var outcomes: [DirectoryReRegistration] = []
        for entry in hosted where moved.contains(entry.key) {
            withState { $0.counters.reRegistrations += 1 }
            do {
                let recorded = try await register(entry.key, address: entry.address, deadline: deadline)
                outcomes.append(recorded == entry.address
                    ? .kept(key: entry.key, address: entry.address)
                    : .lost(key: entry.key, address: entry.address, winner: recorded))
            } catch let error as LocalityError {
                outcomes.append(.failed(key: entry.key, address: entry.address, error: error))
            } catch {
                outcomes.append(.failed(key: entry.key, address: entry.address, error: LocalityError(.internal, "\(error)")))
            }
        }
        return outcomes
    }

    private func deliver(_ handOff: DirectoryHandOff) async throws {
        guard let address = addresses.address(of: handOff.target) else {
            throw LocalityError(.unavailable, "hand-off target \(handOff.target) has no known address")
        }
        let deadline = NIODeadline.now() + .nanoseconds(settings.handOffTimeout.nanoseconds)
        let answer = try await attachedTransport().call(address, payload: DirectoryMessage.handOff(handOff).encoded(), deadline: deadline)
        guard case .handOffAccepted = try DirectoryMessage.decode(answer) else {
            throw LocalityError(.internal, "hand-off target \(handOff.target) answered with something else")
        }
    }
}
