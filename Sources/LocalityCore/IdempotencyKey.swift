/// The key a client sends with a call (HTTP `Idempotency-Key`) so that retrying it is
/// safe: a call retried under the same key, on any node, within the actor's window, runs
/// at most once and answers with the first outcome (see `ActorSettings.idempotency`).
///
/// 1 to 255 printable ASCII characters (`!`…`~`, no spaces): a UUID is the usual choice.
public struct IdempotencyKey: Hashable, Sendable, CustomStringConvertible {
    /// Longest key accepted, in bytes.
    public static let maxBytes = 255

    /// The key as sent.
    public let rawValue: String

    /// `text` as a key; throws `bad_request` when it is empty, longer than `maxBytes` or
    /// holds anything but printable ASCII.
    public init(validating text: String) throws(LocalityError) {
        let bytes = text.utf8
        guard !bytes.isEmpty, bytes.count <= Self.maxBytes else {
            throw LocalityError(.badRequest, "Idempotency-Key must be 1 to \(Self.maxBytes) characters, got \(bytes.count)")
        }
        guard bytes.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
            throw LocalityError(.badRequest, "Idempotency-Key must be printable ASCII without spaces")
        }
        self.rawValue = text
    }

    /// The key, as sent.
    public var description: String { rawValue }
}
