/// The identity of one logical call chain: a call from outside the actor runtime and
/// every call it makes, transitively (Orleans' call-chain reentrancy).
///
/// It travels in a task-local within a node and in the invocation header between nodes,
/// so A→B→A finds A's turn held by its own chain and runs without queueing.
public struct CallChainID: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public var description: String { String(rawValue, radix: 16) }
}

/// The call chain of the running task.
public enum CallChain {
    /// The chain the current task is part of; nil outside any actor call.
    @TaskLocal public static var current: CallChainID?
}
