import Foundation
import LocalityCore
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Reloads the cluster key file (`cluster-key-file`) into a `SharedClusterKeyring` when
/// its contents change, so keys rotate without a restart (procedure in `docs/security.md`).
///
/// Every `interval` it reads the file (at most `maxFileBytes`) and compares the bytes with
/// the last ones read. Changed bytes that parse into other keys replace the keyring
/// (logged at `notice` with the keys' fingerprints, `locality_cluster_key_reloads_total
/// {result="applied"}`, `locality_cluster_key_generation`). A file that cannot be read,
/// is too large or does not parse is refused: the keyring in force stays, the problem is
/// logged at `error` once per distinct file content, and
/// `locality_cluster_key_reloads_total{result="refused"}` counts it. Runs as a
/// swift-service-lifecycle `Service` until cancelled or shut down.
public struct ClusterKeyFileWatcher: Service {
    /// The file watched.
    public let path: String
    /// The keyring it replaces.
    public let keyring: SharedClusterKeyring
    /// Time between two reads of the file.
    public let interval: Duration
    /// Largest key file read (two 1024-byte keys in base64 with comments fit easily).
    public static let maxFileBytes = 64 * 1024

    private let logger: Logger
    private let applied: Counter
    private let refused: Counter
    private let generationGauge: Gauge
    private let lastSeen: LastSeenBytes

    /// A watcher of `path` for `keyring`. Its first check compares the file's keys with
    /// the keys in force (the file may have changed since `keyring` was read from it);
    /// later checks parse the file only when its bytes changed.
    public init(
        path: String, keyring: SharedClusterKeyring, interval: Duration = .seconds(1),
        logger: Logger = Logger(label: "locality.cluster-key"), metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.path = path
        self.keyring = keyring
        self.interval = interval
        self.logger = logger
        applied = Counter(label: "locality_cluster_key_reloads_total", dimensions: [("result", "applied")], factory: metricsFactory)
        refused = Counter(label: "locality_cluster_key_reloads_total", dimensions: [("result", "refused")], factory: metricsFactory)
        generationGauge = Gauge(label: "locality_cluster_key_generation", factory: metricsFactory)
        generationGauge.record(Int(truncatingIfNeeded: keyring.generation))
        lastSeen = LastSeenBytes()
    }

    /// What one check did.
    public enum Outcome: Sendable, Equatable {
        /// The file holds the bytes read last time.
        case unchanged
        /// The file changed but holds the keys in force (e.g. a comment was edited).
        case sameKeys
        /// The new keys are in force, as this generation.
        case applied(generation: UInt64)
        /// The file changed and was refused for this reason; the old keys stay.
        case refused(String)
    }

    /// Polls the file every `interval` until cancelled or graceful shutdown.
    public func run() async throws {
        logger.info("watching the cluster key file", metadata: ["path": "\(path)", "interval": "\(interval)"])
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await Task.sleep(for: interval) } catch { return }
                _ = check()
            }
        }
    }

    /// Reads the file once and applies it if it changed (see the type's doc). Also the
    /// place for a SIGHUP handler to call.
    @discardableResult
    public func check() -> Outcome {
        let (bytes, readProblem) = Self.read(path)
        guard lastSeen.exchange(bytes) else { return .unchanged }
        if let readProblem { return refuse(readProblem) }
        let next: ClusterKeyring
        do {
            next = try ClusterKeyring(fileText: String(decoding: bytes ?? [], as: UTF8.self))
        } catch {
            return refuse(error.message)
        }
        if next.hasSameKeys(as: keyring.current) { return .sameKeys }
        let generation = keyring.replace(with: next)
        applied.increment()
        generationGauge.record(Int(truncatingIfNeeded: generation))
        logger.notice(
            "cluster keys reloaded",
            metadata: ["path": "\(path)", "generation": "\(generation)", "keys": "\(next.fingerprints.joined(separator: ","))"])
        return .applied(generation: generation)
    }

    private func refuse(_ problem: String) -> Outcome {
        refused.increment()
        logger.error(
            "cluster key file refused; the keys in force stay",
            metadata: ["path": "\(path)", "problem": "\(problem)", "generation": "\(keyring.generation)"])
        return .refused(problem)
    }

    /// The file's bytes, or nil and why it cannot be used.
    private static func read(_ path: String) -> (bytes: [UInt8]?, problem: String?) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return (nil, "cannot read \(path)") }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maxFileBytes + 1) ?? Data()
        } catch {
            return (nil, "cannot read \(path): \(error)")
        }
        guard data.count <= maxFileBytes else { return (Array(data), "larger than \(maxFileBytes) bytes") }
        guard String(data: data, encoding: .utf8) != nil else { return (Array(data), "not UTF-8") }
        return (Array(data), nil)
    }
}

/// The file bytes a watcher saw last, shared by its copies.
private final class LastSeenBytes: Sendable {
    private enum Seen: Equatable {
        /// No check yet: the first one always looks at the file.
        case nothing
        /// The file's bytes (nil: unreadable).
        case bytes([UInt8]?)
    }

    private let seen = Mutex(Seen.nothing)

    /// Stores `next`; true when it differs from what was stored (always on the first call).
    func exchange(_ next: [UInt8]?) -> Bool {
        seen.withLock { stored in
            defer { stored = .bytes(next) }
            return stored != .bytes(next)
        }
    }
}
