import HeapModule
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs `body` under a deadline: if it has not finished after `timeout`, it is cancelled
/// and `onTimeout()` is thrown. Cancelling the caller cancels `body`.
///
/// The deadline waits on `DeadlineTimer.shared`, one ticking task for the whole process,
/// instead of a timer per call: on the serving path a `Task.sleep` per call cost a
/// dispatch timer each (about 15 % of a node's CPU under load, measured with perf).
public func withDeadline<T: Sendable>(
    _ timeout: Duration, onTimeout: @escaping @Sendable () -> any Error, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withDeadline(timeout, onTimeout: onTimeout) { _ in try await body() }
}

/// `withDeadline`, with a `Deadline` the body may move (a request whose body arrived
/// moves its deadline from the body timeout to the call timeout: one guard, not two).
/// Inside `body`, `Deadline.enclosing` is that deadline, so a callee can rely on it
/// instead of adding a guard of its own (see `Deadline.covers(_:)`).
///
/// The body runs in one child task, which the timer cancels when the deadline passes (no
/// second task waits for the timer): the caller's own task is never cancelled by it. When
/// the caller is cancelled first, the deadline ends then and there: the body is cancelled
/// with the caller, and the answer is the body's, never `onTimeout()`.
public func withDeadline<T: Sendable>(
    _ timeout: Duration, onTimeout: @escaping @Sendable () -> any Error, _ body: @escaping @Sendable (Deadline) async throws -> T
) async throws -> T {
    let deadline = Deadline(after: timeout, timer: DeadlineTimer.shared)
    let outcome = await withTaskCancellationHandler {
        await withTaskGroup(of: Result<T, any Error>.self) { group in
            group.addTask {
                do {
                    return .success(try await deadline.guarding { try await Deadline.$enclosing.withValue(deadline) { try await body(deadline) } })
                } catch {
                    return .failure(error)
                }
            }
            return await group.next() ?? .failure(CancellationError())
        }
    } onCancel: {
        deadline.end()
    }
    if deadline.passed { throw onTimeout() }
    return try outcome.get()
}

/// A point in time a `withDeadline` body must finish by; movable while the body runs.
public final class Deadline: Sendable {
    /// The deadline of the innermost `withDeadline` running this task, if any.
    @TaskLocal public static var enclosing: Deadline?

    private let sleeper: Sleeper
    private let timer: DeadlineTimer
    private let timeout: Duration

    /// Registered at once (so a move can never race the first registration), counting
    /// from now; `wait()` restarts the count if the task waiting on it started late.
    init(after timeout: Duration, timer: DeadlineTimer) {
        self.sleeper = Sleeper(deadline: ContinuousClock.now + timeout)
        self.timer = timer
        self.timeout = timeout
        timer.start(sleeper)
    }

    /// When it passes.
    public var instant: ContinuousClock.Instant { sleeper.deadline }

    /// Moves it to `timeout` from now (earlier or later); false when it has already
    /// passed (or its `withDeadline` ended), so the move changed nothing.
    @discardableResult
    public func move(after timeout: Duration) -> Bool {
        timer.move(sleeper, to: ContinuousClock.now + timeout)
    }

    /// Whether it is still running and passes no later than `slack` after `timeout` from
    /// now: then a callee whose own limit is `timeout` need not guard it again.
    public func covers(_ timeout: Duration, slack: Duration = .milliseconds(200)) -> Bool {
        let now = ContinuousClock.now
        let instant = instant
        return !sleeper.isFinished && instant > now && instant <= now + timeout + slack
    }

    /// Whether it passed while its work ran (the timer cancelled the work).
    var passed: Bool { sleeper.passed }

    /// Ends it without it passing (its caller was cancelled).
    func end() {
        timer.end(sleeper)
    }

    /// Runs `work` in the current task (a child of `withDeadline`'s caller), which the
    /// timer cancels if the deadline passes first; ends the deadline when `work` returns.
    /// When the machine started the task more than a tick late (a starved thread pool),
    /// the limit counts from now, so the delay before any work ran does not use up the
    /// work's time (a deadline already moved is left as it is).
    func guarding<T>(_ work: () async throws -> T) async throws -> T {
        timer.restart(sleeper, at: ContinuousClock.now + timeout)
        defer {
            timer.end(sleeper)
            // The task must outlive a cancellation the timer has begun.
            sleeper.waitWhileCancelling()
        }
        if let task = withUnsafeCurrentTask(body: { $0.map(TaskCanceller.init) }), !sleeper.guardTask(task) {
            // It passed before the work started: the work runs cancelled, as it would
            // had the timer cancelled it a moment later.
            task.cancel()
        }
        return try await work()
    }
}

/// Sleeps that share one clock: a single task ticks every `tick` while anyone waits and
/// wakes the sleepers whose deadline passed, so a sleep is a heap entry, not a system
/// timer. A sleep ends at most `tick` late; cancelling it ends it at once with
/// `CancellationError`.
///
/// Bounds: one heap entry per sleep and per move; a cancelled sleep's entry (or one a move
/// left behind) stays until its deadline, and the heap is rebuilt without them when they
/// outnumber the live sleeps by more than 4,096 (so it holds at most twice the live
/// sleeps plus 4,096 entries after each tick).
public final class DeadlineTimer: Sendable {
    /// The process's timer, ticking every 5 ms while anyone sleeps.
    public static let shared = DeadlineTimer(tick: .milliseconds(5))

    private struct Entry: Comparable {
        var deadline: ContinuousClock.Instant
        var sleeper: Sleeper
        static func < (lhs: Entry, rhs: Entry) -> Bool { lhs.deadline < rhs.deadline }
        static func == (lhs: Entry, rhs: Entry) -> Bool { lhs.deadline == rhs.deadline && lhs.sleeper === rhs.sleeper }
    }

    private struct State {
        var heap = Heap<Entry>()
        var live = 0
        var ticking = false
    }

    private let tick: Duration
    private let state = Mutex(State())

    /// A timer that wakes sleepers every `tick`.
    public init(tick: Duration) {
        self.tick = tick
    }

    /// Sleepers not woken or cancelled yet.
    public var sleeping: Int { state.withLock { $0.live } }

    /// Returns once `duration` passed (up to `tick` later); throws `CancellationError`
    /// when the task is cancelled first.
    public func sleep(for duration: Duration) async throws {
        let sleeper = Sleeper(deadline: ContinuousClock.now + duration)
        start(sleeper)
        try await wait(sleeper)
    }

    /// Counts `sleeper` as live and puts it on the heap.
    func start(_ sleeper: Sleeper) {
        enqueue(sleeper, at: sleeper.deadline, newSleeper: true)
    }

    /// Waits until `sleeper` (started) fires; throws `CancellationError` when cancelled first.
    func wait(_ sleeper: Sleeper) async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                sleeper.wait(continuation)
            }
        } onCancel: {
            if sleeper.finish(cancelled: true) { state.withLock { $0.live -= 1 } }
        }
    }

    /// Ends a guarding `sleeper` whose work returned (not counted live any more); a no-op
    /// when the timer fired it.
    func end(_ sleeper: Sleeper) {
        if sleeper.finish(cancelled: true) { state.withLock { $0.live -= 1 } }
    }

    /// Moves `sleeper` to `deadline` if that is more than a tick later and nothing moved
    /// it yet (see `Deadline.guarding(_:)`).
    func restart(_ sleeper: Sleeper, at deadline: ContinuousClock.Instant) {
        guard sleeper.restart(at: deadline, ifLaterThan: tick) else { return }
        enqueue(sleeper, at: deadline, newSleeper: false)
    }

    /// Gives `sleeper` a new deadline (its older heap entry is skipped when it comes up);
    /// false when it already fired or was cancelled.
    func move(_ sleeper: Sleeper, to deadline: ContinuousClock.Instant) -> Bool {
        guard sleeper.setDeadline(deadline) else { return false }
        enqueue(sleeper, at: deadline, newSleeper: false)
        return true
    }

    private func enqueue(_ sleeper: Sleeper, at deadline: ContinuousClock.Instant, newSleeper: Bool) {
        let startTicking = state.withLock { state -> Bool in
            state.heap.insert(Entry(deadline: deadline, sleeper: sleeper))
            if newSleeper { state.live += 1 }
            defer { state.ticking = true }
            return !state.ticking
        }
        if startTicking { Task.detached { await self.run() } }
    }

    /// Ticks while anyone sleeps, waking those whose deadline passed.
    private func run() async {
        while true {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            var due: [Sleeper] = []
            let keepTicking = state.withLock { state -> Bool in
                if state.live == 0 {
                    // Every entry left is a cancelled sleep.
                    state.heap = Heap()
                    state.ticking = false
                    return false
                }
                while let first = state.heap.min, first.deadline <= now {
                    let entry = state.heap.removeMin()
                    // An entry left behind by a move is skipped.
                    if entry.deadline == entry.sleeper.deadline { due.append(entry.sleeper) }
                }
                if state.heap.count > 2 * state.live + 4_096 {
                    state.heap = Heap(state.heap.unordered.filter { !$0.sleeper.isFinished && $0.deadline == $0.sleeper.deadline })
                }
                if state.heap.isEmpty {
                    state.ticking = false
                    return false
                }
                return true
            }
            var woken = 0
            // A sleeper moved later since its entry was taken is not due: its new entry waits.
            for sleeper in due where sleeper.fire(at: now) { woken += 1 }
            if woken > 0 { state.withLock { $0.live -= woken } }
            if !keepTicking { return }
        }
    }
}

/// Cancels the task it was made in. Only `Sleeper` holds one, while that task runs the
/// guarded work. The timer takes it out of the sleeper and marks the sleeper `cancelling`
/// under the sleeper's lock, then cancels outside the lock (cancellation handlers run
/// there); the task, ending its guard, takes the same lock and then waits while the mark
/// is set, so it is alive whenever it is cancelled (`UnsafeCurrentTask.cancel()` is safe
/// from another thread while the task lives).
final class TaskCanceller: @unchecked Sendable {
    private let task: UnsafeCurrentTask

    init(_ task: UnsafeCurrentTask) {
        self.task = task
    }

    func cancel() { task.cancel() }
}

/// One sleep: resumed once, by the tick or by cancellation, whichever comes first (also
/// when cancellation comes before the continuation is installed). A deadline's sleeper
/// guards a task instead (`Deadline.guarding(_:)`): firing cancels that task.
final class Sleeper: Sendable {
    private enum Phase {
        case pending
        case waiting(CheckedContinuation<Void, any Error>)
        case guarding(TaskCanceller)
        case finished(cancelled: Bool)
    }

    /// The phase, the deadline and whether it was moved, under one lock: a move and a
    /// fire cannot interleave.
    private let state: Mutex<(phase: Phase, deadline: ContinuousClock.Instant, moved: Bool)>
    /// Set while the timer cancels the guarded task (`TaskCanceller`).
    private let cancelling = Atomic<Bool>(false)

    init(deadline: ContinuousClock.Instant) {
        state = Mutex((.pending, deadline, false))
    }

    var deadline: ContinuousClock.Instant { state.withLock { $0.deadline } }

    /// Sets a new deadline unless the sleep is over; true if set.
    func setDeadline(_ deadline: ContinuousClock.Instant) -> Bool {
        state.withLock { state in
            if case .finished = state.phase { return false }
            state.deadline = deadline
            state.moved = true
            return true
        }
    }

    /// Sets `deadline` if the sleep is not over, was never moved, and `deadline` is more
    /// than `margin` later than the current one; true if set.
    func restart(at deadline: ContinuousClock.Instant, ifLaterThan margin: Duration) -> Bool {
        state.withLock { state in
            if case .finished = state.phase { return false }
            guard !state.moved, deadline > state.deadline + margin else { return false }
            state.deadline = deadline
            return true
        }
    }

    /// Makes firing cancel `task` (the task running the guarded work); false when the
    /// sleep is already over.
    func guardTask(_ task: TaskCanceller) -> Bool {
        state.withLock { state in
            guard case .pending = state.phase else { return false }
            state.phase = .guarding(task)
            return true
        }
    }

    /// Whether the timer fired it (not ended by cancellation or by its work returning).
    var passed: Bool {
        state.withLock { if case .finished(cancelled: false) = $0.phase { true } else { false } }
    }

    func wait(_ continuation: CheckedContinuation<Void, any Error>) {
        let early: Bool? = state.withLock { state in
            switch state.phase {
            case .pending:
                state.phase = .waiting(continuation)
                return nil
            case .waiting, .guarding: return nil
            case .finished(let cancelled): return cancelled
            }
        }
        if let early {
            if early { continuation.resume(throwing: CancellationError()) } else { continuation.resume() }
        }
    }

    /// Ends the sleep if its deadline is `now` or earlier; true if this call ended it.
    func fire(at now: ContinuousClock.Instant) -> Bool {
        finish(cancelled: false, onlyIfDueAt: now)
    }

    /// Ends the sleep; true if this call ended it (it was not over yet).
    func finish(cancelled: Bool, onlyIfDueAt now: ContinuousClock.Instant? = nil) -> Bool {
        let (ended, continuation, guarded) = state.withLock {
            state -> (Bool, CheckedContinuation<Void, any Error>?, TaskCanceller?) in
            if let now, state.deadline > now { return (false, nil, nil) }
            switch state.phase {
            case .pending:
                state.phase = .finished(cancelled: cancelled)
                return (true, nil, nil)
            case .waiting(let continuation):
                state.phase = .finished(cancelled: cancelled)
                return (true, continuation, nil)
            case .guarding(let task):
                state.phase = .finished(cancelled: cancelled)
                if cancelled { return (true, nil, nil) }
                // Marked under the lock: the task's guard cannot end until the mark clears.
                cancelling.store(true, ordering: .releasing)
                return (true, nil, task)
            case .finished:
                return (false, nil, nil)
            }
        }
        if let guarded {
            guarded.cancel()
            cancelling.store(false, ordering: .releasing)
        }
        if let continuation {
            if cancelled { continuation.resume(throwing: CancellationError()) } else { continuation.resume() }
        }
        return ended
    }

    /// Returns once no cancellation of the guarded task is under way (see `TaskCanceller`);
    /// the wait is the length of one `cancel()`.
    func waitWhileCancelling() {
        while cancelling.load(ordering: .acquiring) { sched_yield() }
    }

    var isFinished: Bool {
        state.withLock { if case .finished = $0.phase { true } else { false } }
    }
}
