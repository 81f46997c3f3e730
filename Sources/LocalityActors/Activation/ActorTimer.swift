/// A timer of one activation (Orleans' grain timer), made by `ClusterSystem.startTimer`.
///
/// Each tick runs as a turn of the activation (it waits for the turn like a call; when
/// the mailbox is full the tick is skipped). A timer that `keepsAlive` counts as use and
/// keeps the activation from idle deactivation; otherwise only calls do. Timers end with
/// their activation, or on `cancel()`.
public struct ActorTimer: Sendable {
    let task: Task<Void, Never>

    /// Stops the timer; a tick in progress finishes.
    public func cancel() { task.cancel() }
}
