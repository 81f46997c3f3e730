import Foundation

/// The end of standard input as a stop signal: a parent that starts nodes keeps the write
/// end of their stdin open, so when it is done (or dies) they see EOF and leave.
enum StdinWatch {
    /// Sends SIGTERM to this process (a graceful shutdown) once standard input ends.
    static func leaveOnEOF() {
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 256)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
                if count == 0 || (count < 0 && errno != EINTR) { break }
            }
            kill(getpid(), SIGTERM)
        }
    }
}
