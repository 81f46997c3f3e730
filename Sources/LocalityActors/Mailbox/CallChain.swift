/// The identity of one logical call chain: a call from outside the actor runtime and
/// every call it makes, transitively (Orleans' call-chain reentrancy).
///
/// It travels in a task-local within a node and in the invocation header between nodes,
/// so A→B→A finds A's turn held by its own chain and runs without queueing.
public struct CallChainID: Hashable, Sendable, CustomStringConvertible {
    /// The chain's number, drawn from the starting node's uid and a counter, so chains started on different nodes do not collide.
    public var rawValue: UInt64

    /// The chain numbered `rawValue` (as read from an invocation header).
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// The number in hexadecimal, for logs.
    public var description: String { String(rawValue, radix: 16) }
}

/// The call chain of the running task.
public enum CallChain {
    /// The chain the current task is part of; nil outside any actor call.
    @TaskLocal public static var current: CallChainID?
}
