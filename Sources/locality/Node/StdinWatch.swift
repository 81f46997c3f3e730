import Foundation

/// The end of standard input as a signal: a parent that starts `locality` children keeps
/// the write end of their stdin open, so when it is done (or dies) they see EOF.
enum StdinWatch {
    /// Turns EOF into a graceful shutdown (SIGTERM to ourselves, which the ServiceGroup
    /// answers by leaving the cluster): when the parent dies, so does the node.
    static func leaveOnEOF() {
        Thread.detachNewThread {
            blockUntilEOF()
            kill(getpid(), SIGTERM)
        }
    }

    /// Returns once standard input reaches its end (the bench servers' way to stop).
    static func waitForEOF() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                blockUntilEOF()
                continuation.resume()
            }
        }
    }

    /// Reads and drops standard input on the calling thread until EOF or an error.
    private static func blockUntilEOF() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if count == 0 || (count < 0 && errno != EINTR) { return }
        }
    }
}
