#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// Tells a refused TCP connection (ECONNREFUSED: the peer's host answered the SYN with a
/// RST, nothing listens there) from every other stream failure, for
/// `SWIMCore.streamFailed(to:reason:now:)`.
enum ConnectionRefusal {
    /// `ClientBootstrap.connect(host:port:)` throws `NIOConnectionError`, whose per-address
    /// failures hold the `IOError`s; a connect to a resolved address throws the `IOError`
    /// itself. Refused only when every attempted address refused.
    static func classify(_ error: any Error) -> SWIMStreamFailure {
        if let io = error as? IOError { return io.errnoCode == ECONNREFUSED ? .refused : .other }
        if let connection = error as? NIOConnectionError {
            let failures = connection.connectionErrors
            guard !failures.isEmpty else { return .other }
            let allRefused = failures.allSatisfy { failure in
                (failure.error as? IOError)?.errnoCode == ECONNREFUSED
            }
            return allRefused ? .refused : .other
        }
        return .other
    }
}
