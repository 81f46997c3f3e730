import DequeModule
import LocalityCore
import Synchronization

/// The turn gate of one activation: one call chain at a time, FIFO, bounded.
///
/// Orleans' turn-based execution: a Swift actor lets another call in at every `await`,
/// so the turn is made explicit here. A call enters when no turn is held; otherwise it
/// waits in FIFO order (calls from one caller keep their order). A call of the chain that
/// holds the turn enters at once (call-chain reentrancy: A→B→A does not deadlock).
///
/// Bound: at most `capacity` waiting calls; one more fails with `overloaded` at once.
/// Waiting calls are counted in the system's `MailboxDepth` (`locality_actor_mailbox_depth`).
/// A closed mailbox (activation deactivating) refuses entry with `MailboxClosed`, and the
/// caller looks the activation up again.
public final class Mailbox: Sendable {
    /// What `enter` granted; pass it back to `leave`.
    public enum Ticket: Sendable {
        /// The call took the activation's turn; leaving releases it to the next waiter.
        case turn
        /// The call entered on its chain's turn (A→B→A); leaving releases nothing.
        case reentrant
    }

    /// The activation is deactivating; look it up again.
    struct Closed: Error {}

    private struct Waiter {
        var number: UInt64
        var chain: CallChainID
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var holder: CallChainID?
        var reentrant = 0
        var waiters = Deque<Waiter>()
        var nextWaiter: UInt64 = 0
        var closed = false
    }

    let capacity: Int
    private let state = Mutex(State())
    private let sharedDepth: MailboxDepth?

    /// A mailbox admitting at most `capacity` waiting calls.
    public convenience init(capacity: Int) {
        self.init(capacity: capacity, depth: nil)
    }

    /// A mailbox whose waiting calls count in `depth`.
    init(capacity: Int, depth: MailboxDepth?) {
        self.capacity = capacity
        self.sharedDepth = depth
    }

    /// Enters without waiting: the turn when nobody holds it, a reentrant step when
    /// `chain` holds it. Nil when the call would have to wait, or the mailbox is closed
    /// (then `enter` gives the answer).
    public func tryEnter(_ chain: CallChainID) -> Ticket? {
        state.withLock { state in
            if state.closed { return nil }
            if state.holder == nil {
                state.holder = chain
                return .turn
            }
            if state.holder == chain {
                state.reentrant += 1
                return .reentrant
            }
            return nil
        }
    }

    /// Waits for the turn (or enters at once when `chain` holds it).
    public func enter(_ chain: CallChainID) async throws -> Ticket {
        enum Decision {
            case granted(Ticket)
            case wait(UInt64)
            case refused(any Error)
        }
        // Fast path without suspension.
        let number: UInt64
        let fast: Decision = state.withLock { state in
            if state.closed { return .refused(Closed()) }
            if state.holder == nil {
                state.holder = chain
                return .granted(.turn)
            }
            if state.holder == chain {
                state.reentrant += 1
                return .granted(.reentrant)
            }
            if state.waiters.count >= capacity {
                return .refused(LocalityError(.overloaded, "mailbox full: \(capacity) calls waiting"))
            }
            state.nextWaiter += 1
            return .wait(state.nextWaiter)
        }
        switch fast {
        case .granted(let ticket): return ticket
        case .refused(let error): throw error
        case .wait(let assigned): number = assigned
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: (any Error)?? = state.withLock { state in
                    if state.closed { return .some(Closed()) }
                    if Task.isCancelled {
                        return .some(LocalityError(.cancelled, "call cancelled while waiting for its turn"))
                    }
                    if state.holder == nil {
                        state.holder = chain
                        return .some(nil)
                    }
                    state.waiters.append(Waiter(number: number, chain: chain, continuation: continuation))
                    sharedDepth?.add(1)
                    return .none
                }
                switch resumeNow {
                case .none: break
                case .some(nil): continuation.resume()
                case .some(let error?): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            let cancelled = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.number == number }) else { return nil }
                sharedDepth?.add(-1)
                return state.waiters.remove(at: index).continuation
            }
            cancelled?.resume(throwing: LocalityError(.cancelled, "call cancelled while waiting for its turn"))
        }
        return .turn
    }

    /// Ends a turn (handing it to the next waiter) or a reentrant call.
    public func leave(_ ticket: Ticket) {
        let next: Waiter? = state.withLock { state in
            switch ticket {
            case .reentrant:
                state.reentrant -= 1
                return nil
            case .turn:
                guard let next = state.waiters.popFirst() else {
                    state.holder = nil
                    return nil
                }
                sharedDepth?.add(-1)
                state.holder = next.chain
                return next
            }
        }
        next?.continuation.resume()
    }

    /// True when no turn is held and nobody waits.
    var isIdle: Bool {
        state.withLock { $0.holder == nil && $0.waiters.isEmpty }
    }

    /// Calls waiting for their turn.
    var depth: Int { state.withLock { $0.waiters.count } }

    /// Closes the mailbox if it is idle; returns whether it did. A closed mailbox admits
    /// nobody again.
    func closeIfIdle() -> Bool {
        state.withLock { state in
            guard !state.closed, state.holder == nil, state.waiters.isEmpty else { return false }
            state.closed = true
            return true
        }
    }

    /// Closes the mailbox now; waiting calls are told to look the activation up again.
    /// The turn in progress (if any) finishes.
    func close() {
        let waiting: [Waiter] = state.withLock { state in
            state.closed = true
            sharedDepth?.add(-state.waiters.count)
            defer { state.waiters.removeAll() }
            return Array(state.waiters)
        }
        for waiter in waiting { waiter.continuation.resume(throwing: Closed()) }
    }
}
