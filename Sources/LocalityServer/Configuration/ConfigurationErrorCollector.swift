import Configuration
import Synchronization

/// Collects what swift-configuration's non-throwing getters swallow: a provider that
/// holds a value of the wrong type (`"abc"` for a number), or a conversion that failed.
/// `NodeConfiguration.load` turns each into a `NodeConfigurationError`.
final class ConfigurationErrorCollector: AccessReporter, Sendable {
    struct Failure: Sendable {
        var key: String
        var problem: String
    }

    private let failures = Mutex<[Failure]>([])

    func report(_ event: AccessEvent) {
        let key = event.metadata.key.components.last ?? event.metadata.key.description
        var found: [Failure] = []
        for provider in event.providerResults {
            if case .failure(let error) = provider.result {
                found.append(Failure(key: key, problem: "not a valid \(event.metadata.valueType.rawValue) (\(error))"))
            }
        }
        if let conversionError = event.conversionError {
            found.append(Failure(key: key, problem: "cannot be converted (\(conversionError))"))
        }
        guard !found.isEmpty else { return }
        failures.withLock { $0.append(contentsOf: found) }
    }

    /// Every failure reported so far.
    var all: [Failure] { failures.withLock { $0 } }
}
