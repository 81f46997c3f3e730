#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A source of monotonic time, injected into everything that needs "now".
public protocol LocalityClock: Sendable {
    /// The current time.
    func now() -> Timestamp
    /// Wall-clock time (nanoseconds since the Unix epoch) minus `now()`: lets processes
    /// on different hosts agree on time slots. Zero for clocks with no wall clock behind them.
    func wallClockOffset() -> Duration
}

extension LocalityClock {
    public func wallClockOffset() -> Duration { .zero }
}

/// The real monotonic clock (`CLOCK_MONOTONIC`), for production.
public struct MonotonicClock: LocalityClock {
    /// The system's monotonic clock.
    public init() {}

    public func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Timestamp(nanoseconds: Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec))
    }

    public func wallClockOffset() -> Duration {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let wall = Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
        return .nanoseconds(wall - now().nanoseconds)
    }
}

/// A clock that moves only when told to; for tests.
public final class ManualClock: LocalityClock {
    private let current: Mutex<Timestamp>

    /// A clock that reads `start` until it is moved.
    public init(start: Timestamp = .zero) {
        current = Mutex(start)
    }

    public func now() -> Timestamp { current.withLock { $0 } }

    /// Moves the clock forward by `duration`.
    public func advance(by duration: Duration) {
        current.withLock { $0 = $0 + duration }
    }

    /// Sets the clock to `timestamp`.
    public func set(_ timestamp: Timestamp) {
        current.withLock { $0 = timestamp }
    }
}
