/// A configuration a node cannot start with: the key, the value and where it came from,
/// what is wrong, and what the key allows.
///
/// Its `description` is the line the node prints before it exits:
/// `configuration key 'probe-interval-ms' (environment variable LOCALITY_PROBE_INTERVAL_MS) = "abc": not a whole number; allowed: milliseconds, a whole number ≥ 1 (default: 1000)`.
public struct NodeConfigurationError: Error, Sendable, CustomStringConvertible {
    /// The setting at fault; nil for a problem with no key (an unreadable file).
    public var key: NodeSettingKey?
    /// The offending value as written, when there is one (secrets are not repeated).
    public var value: String?
    /// Where the value came from: a flag, an environment variable or the file.
    public var source: String?
    /// What is wrong.
    public var problem: String

    /// An error about `key`.
    public init(key: NodeSettingKey?, value: String?, source: String?, problem: String) {
        self.key = key
        self.value = value
        self.source = source
        self.problem = problem
    }

    /// The line a node prints before it exits: key, source, value, problem, what is allowed.
    public var description: String {
        guard let key else { return problem }
        var text = "configuration key '\(key.name)'"
        if let source { text += " (\(source))" }
        if let value { text += key.isSecret ? " = <secret>" : " = \"\(value)\"" }
        return text + ": \(problem); allowed: \(key.allowed)"
    }
}

/// Several configuration errors found at once (every wrong key is reported, not only the first).
public struct NodeConfigurationErrors: Error, Sendable, CustomStringConvertible {
    /// Each problem found.
    public var errors: [NodeConfigurationError]

    /// Every error, one per line.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
