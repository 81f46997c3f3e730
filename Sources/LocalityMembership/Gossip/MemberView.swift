import Synchronization
import LocalityCore

/// The member list as last published by the core, and the event subscribers, shared
/// between the serialized core and synchronous readers (`events()` must register and
/// snapshot atomically so no event is missed or duplicated).
///
/// Overflow: each subscriber's `AsyncStream` buffers `bufferSize` events and drops the
/// oldest when full (`bufferingNewest`); drops are counted in `droppedEvents`. A
/// subscriber that fell behind re-reads `members()` for the full view. Beyond
/// `maxSubscribers` a new subscription finishes immediately.
final class MemberView: Sendable {
    private struct State {
        var members: [NodeID: MemberState] = [:]
        var subscribers: [Int: AsyncStream<MembershipEvent>.Continuation] = [:]
        var nextSubscriber = 0
        var droppedEvents = 0
    }

    private let state = Mutex(State())
    let bufferSize: Int
    let maxSubscribers: Int

    init(bufferSize: Int, maxSubscribers: Int) {
        self.bufferSize = bufferSize
        self.maxSubscribers = maxSubscribers
    }

    var members: [MemberState] { state.withLock { $0.members.values.sorted { $0.id < $1.id } } }

    var droppedEvents: Int { state.withLock { $0.droppedEvents } }

    /// Replaces the view wholesale (at start, from the core's member list).
    func reset(_ members: [MemberState]) {
        state.withLock { state in
            state.members = Dictionary(members.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        }
    }

    /// Applies an event to the view and delivers it to every subscriber. Returns how many
    /// subscribers dropped an event for it (their buffer was full).
    @discardableResult
    func publish(_ event: MembershipEvent) -> Int {
        state.withLock { state in
            var drops = 0
            switch event {
            case .statusChanged(let member, _): state.members[member.id] = member
            case .removed(let id): state.members.removeValue(forKey: id)
            }
            for continuation in state.subscribers.values {
                if case .dropped = continuation.yield(event) { drops += 1 }
            }
            state.droppedEvents += drops
            return drops
        }
    }

    /// A new subscription: the current members as `statusChanged(_, previous: nil)`, then changes.
    func subscribe() -> AsyncStream<MembershipEvent> {
        let (stream, continuation) = AsyncStream<MembershipEvent>.makeStream(bufferingPolicy: .bufferingNewest(bufferSize))
        let id: Int? = state.withLock { state in
            guard state.subscribers.count < maxSubscribers else { return nil }
            for member in state.members.values.sorted(by: { $0.id < $1.id }) {
                continuation.yield(.statusChanged(member, previous: nil))
            }
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = continuation
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Ends every subscription (at shutdown).
    func finishAll() {
        let continuations = state.withLock { state in
            defer { state.subscribers.removeAll() }
            return Array(state.subscribers.values)
        }
        for continuation in continuations { continuation.finish() }
    }
}
