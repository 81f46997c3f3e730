import DequeModule
import LocalityCore
import Synchronization

/// Admits at most `maxInFlight` calls at once; up to `maxQueued` more wait in FIFO order
/// for at most `maxWait`. Overload behavior: a call that finds the queue full, waits
/// longer than `maxWait` or is cancelled while waiting is refused with `overloaded`
/// (cancelled: `cancelled`) and holds no slot. Depths are reported through `onChange`.
final class InFlightLimiter: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var inFlight = 0
        var waiters = Deque<Waiter>()
        /// Waiting places taken (a place is reserved before its waiter is enqueued).
        var queued = 0
        var nextID: UInt64 = 0
    }

    /// Why an acquisition failed.
    enum Refusal: Error, Equatable {
        case queueFull
        case waitedTooLong
        case cancelled
    }

    let maxInFlight: Int
    let maxQueued: Int
    let maxWait: Duration
    private let state = Mutex(State())
    private let onChange: @Sendable (_ inFlight: Int, _ queued: Int) -> Void

    init(maxInFlight: Int, maxQueued: Int, maxWait: Duration, onChange: @escaping @Sendable (Int, Int) -> Void = { _, _ in }) {
        self.maxInFlight = max(1, maxInFlight)
        self.maxQueued = max(0, maxQueued)
        self.maxWait = maxWait
        self.onChange = onChange
    }

    /// Current (in flight, queued).
    var depths: (inFlight: Int, queued: Int) { state.withLock { ($0.inFlight, $0.queued) } }

    /// Takes a slot, waiting if needed; pair every successful call with `release()`.
    func acquire() async throws(Refusal) {
        enum Fast { case acquired, full, wait(UInt64) }
        let fast: Fast = state.withLock { state in
            if state.inFlight < maxInFlight {
                state.inFlight += 1
                return .acquired
            }
            if state.queued >= maxQueued { return .full }
            state.queued += 1
            state.nextID += 1
            return .wait(state.nextID)
        }
        switch fast {
        case .acquired:
            report()
            return
        case .full:
            throw .queueFull
        case .wait(let id):
            try await waitForSlot(id: id)
        }
    }

    /// Gives a slot back: to the oldest waiter, or to the pool.
    func release() {
        let next: Waiter? = state.withLock { state in
            if let waiter = state.waiters.popFirst() {
                state.queued -= 1
                return waiter
            }
            state.inFlight -= 1
            return nil
        }
        next?.continuation.resume(returning: true)
        report()
    }

    private enum Outcome: Sendable { case acquired, notAcquired, timedOut }

    private func waitForSlot(id: UInt64) async throws(Refusal) {
        let maxWait = self.maxWait
        let result: (acquired: Bool, timedOut: Bool) = await withTaskGroup(of: Outcome.self) { group in
            group.addTask { await self.enqueue(id: id) ? .acquired : .notAcquired }
            group.addTask {
                do { try await Task.sleep(for: maxWait) } catch { return .notAcquired }
                return .timedOut
            }
            var acquired = false
            var timedOut = false
            // The first result decides; the other task is cancelled, and a slot granted
            // in the same instant as the timeout is still taken (never leaked).
            while let outcome = await group.next() {
                switch outcome {
                case .acquired: acquired = true
                case .timedOut: timedOut = true
                case .notAcquired: break
                }
                group.cancelAll()
            }
            return (acquired, timedOut)
        }
        if result.acquired { return }
        throw result.timedOut ? .waitedTooLong : .cancelled
    }

    /// Queues a waiter; true once granted a slot, false when cancelled first.
    private func enqueue(id: UInt64) async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let immediate: Bool? = state.withLock { state in
                    if Task.isCancelled {
                        state.queued -= 1
                        return false
                    }
                    if state.inFlight < maxInFlight {
                        state.inFlight += 1
                        state.queued -= 1
                        return true
                    }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
                report()
            }
        } onCancel: {
            let removed: Waiter? = state.withLock { state in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                state.queued -= 1
                return state.waiters.remove(at: index)
            }
            removed?.continuation.resume(returning: false)
            report()
        }
    }

    private func report() {
        let (inFlight, queued) = depths
        onChange(inFlight, queued)
    }
}
