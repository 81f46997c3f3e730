import Logging
import Synchronization

/// One log line per rejection reason at most every `interval`, with how many rejections of
/// that reason were not logged since: a flood of bad tokens cannot flood the log. The token
/// is never logged.
final class AuthRejectionLog: Sendable {
    private struct Slot {
        var last: ContinuousClock.Instant?
        var suppressed = 0
    }

    let interval: Duration
    private let logger: Logger
    private let slots: Mutex<[AuthRejection: Slot]>

    init(logger: Logger, interval: Duration = .seconds(10)) {
        self.logger = logger
        self.interval = interval
        self.slots = Mutex(Dictionary(uniqueKeysWithValues: AuthRejection.allCases.map { ($0, Slot()) }))
    }

    /// Logs the rejection if its reason was not logged within `interval`; returns whether it did.
    @discardableResult
    func record(_ reason: AuthRejection, detail: String, path: String, client: String, now: ContinuousClock.Instant = .now) -> Bool {
        let suppressed: Int? = slots.withLock { slots in
            var slot = slots[reason] ?? Slot()
            defer { slots[reason] = slot }
            if let last = slot.last, now - last < interval {
                slot.suppressed += 1
                return nil
            }
            defer { slot.suppressed = 0 }
            slot.last = now
            return slot.suppressed
        }
        guard let suppressed else { return false }
        logger.warning("gateway refused a request", metadata: [
            "reason": "\(reason.rawValue)", "status": "\(reason.status.code)", "detail": "\(detail)",
            "path": "\(path.prefix(200))", "client": "\(client)", "suppressed": "\(suppressed)",
        ])
        return true
    }
}
