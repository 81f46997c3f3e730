import Metrics
import Prometheus
import Synchronization

/// The process-wide Prometheus export of every layer's swift-metrics (`locality_*`).
///
/// Call `bootstrap()` once, early (before the layers create their instruments: an
/// instrument keeps the factory it was created with); later calls return the same
/// registry. `GET /metrics` renders `registry` in the Prometheus text format.
public enum LocalityMetrics {
    private static let installed = Mutex<PrometheusCollectorRegistry?>(nil)

    /// Latency buckets of every swift-metrics `Timer` (Prometheus histograms, in seconds).
    public static let durationBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .milliseconds(2_500), .seconds(5), .seconds(10),
    ]

    /// Installs a `PrometheusMetricsFactory` as the `MetricsSystem` (once per process) and
    /// returns its registry.
    @discardableResult
    public static func bootstrap() -> PrometheusCollectorRegistry {
        installed.withLock { installed in
            if let installed { return installed }
            let registry = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.defaultDurationHistogramBuckets = durationBuckets
            MetricsSystem.bootstrap(factory)
            installed = registry
            return registry
        }
    }

    /// The registry installed by `bootstrap()`, nil before.
    public static var registry: PrometheusCollectorRegistry? { installed.withLock { $0 } }
}
