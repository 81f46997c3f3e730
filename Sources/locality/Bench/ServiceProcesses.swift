import Foundation
import LocalityBench

/// The PostgreSQL and Redis server processes a `bench stateful` run talks to, so they can
/// be pinned: the process holding the socket that listens on the URL's port (read from
/// `/proc/net/tcp*` and `/proc/PID/fd`), else the pid file `scripts/services` keeps
/// (`postmaster.pid` line 1 in the PostgreSQL data directory, `redis.pid`). A server on
/// another host is not on this machine's CPUs: nil.
enum ServiceProcesses {
    /// A server process and how it was found.
    struct Found: Sendable {
        let pid: Int32
        let how: String
    }

    /// `LOCALITY_SERVICES_DIR`, else `/tmp/locality-services` (as in `scripts/services`).
    static var servicesDirectory: String {
        ProcessInfo.processInfo.environment["LOCALITY_SERVICES_DIR"] ?? "/tmp/locality-services"
    }

    /// The postmaster of the PostgreSQL server at `url`, or why it was not found.
    static func postgres(url: String?) -> Result<Found, Failure> {
        find(url: url, defaultPort: 5432, pidFile: servicesDirectory + "/postgres/data/postmaster.pid")
    }

    /// The Redis server at `url`, or why it was not found.
    static func redis(url: String?) -> Result<Found, Failure> {
        find(url: url, defaultPort: 6379, pidFile: servicesDirectory + "/redis/redis.pid")
    }

    /// Why a server process was not found.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private static func find(url: String?, defaultPort: Int, pidFile: String) -> Result<Found, Failure> {
        guard let url, let components = URLComponents(string: url), let host = components.host else {
            return .failure(Failure(description: "no URL"))
        }
        guard ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host) else {
            return .failure(Failure(description: "\(host) is not this machine's loopback"))
        }
        let port = components.port ?? defaultPort
        if let pid = listener(port: port) { return .success(Found(pid: pid, how: "listening on port \(port)")) }
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = ProcFiles.pid(pidFile: text), isAlive(pid) {
            return .success(Found(pid: pid, how: "pid file \(pidFile)"))
        }
        return .failure(Failure(description: "no process seen listening on port \(port) and no live pid in \(pidFile)"))
    }

    /// The process holding a socket that listens on loopback `port`: of several holders
    /// (forked children keep the fd), the one whose parent is not a holder.
    static func listener(port: Int) -> Int32? {
        var inodes = Set<UInt64>()
        for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            inodes.formUnion(ProcFiles.listeningInodes(port: port, netTCP: text))
        }
        guard !inodes.isEmpty else { return nil }
        let targets = Set(inodes.map { "socket:[\($0)]" })
        let holders = Set(processes().filter { pid in
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
            return fds.contains { fd in
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")).map(targets.contains) == true
            }
        })
        return holders.filter { parent(of: $0).map { !holders.contains($0) } ?? true }.min()
    }

    /// The live children of `pid` (PostgreSQL's backends and auxiliary processes).
    static func children(of pid: Int32) -> [Int32] {
        processes().filter { parent(of: $0) == pid }
    }

    static func parent(of pid: Int32) -> Int32? {
        (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)).flatMap { ProcFiles.parentPID(stat: $0) }
    }

    static func isAlive(_ pid: Int32) -> Bool {
        FileManager.default.fileExists(atPath: "/proc/\(pid)")
    }

    /// Every pid in `/proc`.
    private static func processes() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
    }
}
