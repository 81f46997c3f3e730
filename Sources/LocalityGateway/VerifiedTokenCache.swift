import Foundation
import Synchronization

/// JWTs already verified, keyed by the token text, each kept until its `exp`: a client
/// that sends the same token on every request pays for one signature check.
///
/// Bounded by `capacity`: inserting into a full cache first drops the expired entries and,
/// if none was, one arbitrary entry (so a flood of distinct valid tokens costs at most one
/// scan per insert and never grows memory). Only verified tokens enter it.
final class VerifiedTokenCache: Sendable {
    struct Entry: Sendable {
        var principal: GatewayPrincipal
        var expires: Date
    }

    let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The entry for `token`; an expired one is removed and returned (the caller refuses it).
    func entry(for token: String, now: Date) -> Entry? {
        entries.withLock { entries in
            guard let entry = entries[token] else { return nil }
            if entry.expires <= now { entries[token] = nil }
            return entry
        }
    }

    func insert(_ token: String, _ entry: Entry, now: Date) {
        entries.withLock { entries in
            if entries[token] == nil, entries.count >= capacity {
                entries = entries.filter { $0.value.expires > now }
                if entries.count >= capacity { entries.remove(at: entries.startIndex) }
            }
            entries[token] = entry
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
