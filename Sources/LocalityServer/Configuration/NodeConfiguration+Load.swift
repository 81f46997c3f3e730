import Configuration
import Foundation
import LocalityActors
import LocalityCore
import LocalityMembership
import LocalityStorage
import Logging

extension NodeConfiguration {
    /// Reads a configuration from three layers with apple/swift-configuration, highest
    /// precedence first: `flags` (values as typed on a command line, keyed by
    /// `NodeSettingKey.name`), environment variables (`LOCALITY_…`), then the JSON or YAML
    /// `file`. Keys absent everywhere take their defaults.
    ///
    /// Every problem is reported at once, each naming its key, the value, where it came
    /// from and what is allowed: a value of the wrong type or out of range, a missing
    /// required key, an unknown key or an unparsable file.
    public static func load(
        flags: [String: String] = [:],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        file: String? = nil
    ) async throws(NodeConfigurationErrors) -> NodeConfiguration {
        var errors: [NodeConfigurationError] = []
        let flagValues = FlagValues.parse(flags, errors: &errors)
        let configurationFile = try await file.asyncMap { path throws(NodeConfigurationErrors) in try await ConfigurationFile.open(path) }
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: flagValues),
            EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: "locality"),
        ]
        if let configurationFile { providers.append(configurationFile.provider) }
        let collector = ConfigurationErrorCollector()
        let reader = SettingsReader(
            config: ConfigReader(providers: providers, accessReporter: collector),
            flags: flags, environment: environment, file: configurationFile)
        let configuration = reader.read(errors: &errors)
        for failure in collector.all {
            guard let key = NodeSettingKey.named(failure.key) else { continue }
            errors.append(reader.error(key, problem: failure.problem))
        }
        guard errors.isEmpty, let configuration else { throw NodeConfigurationErrors(errors: errors) }
        return configuration
    }
}

/// Command-line values as typed configuration values (swift-configuration's in-memory
/// provider does not convert text, so `"500"` for an int key becomes `.int(500)` here).
enum FlagValues {
    static func parse(_ flags: [String: String], errors: inout [NodeConfigurationError]) -> [AbsoluteConfigKey: ConfigValue] {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (name, text) in flags {
            guard let key = NodeSettingKey.named(name) else {
                errors.append(NodeConfigurationError(key: nil, value: nil, source: nil, problem: "unknown flag --\(name)"))
                continue
            }
            let content: ConfigContent
            switch key.type {
            case .string: content = .string(text)
            case .stringList: content = .stringArray(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
            case .int:
                guard let number = Int(text) else {
                    errors.append(NodeConfigurationError(key: key, value: text, source: "flag \(key.flag)", problem: "not a whole number"))
                    continue
                }
                content = .int(number)
            case .double:
                guard let number = Double(text) else {
                    errors.append(NodeConfigurationError(key: key, value: text, source: "flag \(key.flag)", problem: "not a number"))
                    continue
                }
                content = .double(number)
            }
            values[AbsoluteConfigKey([name])] = ConfigValue(content, isSecret: key.isSecret)
        }
        return values
    }
}

extension Optional {
    fileprivate func asyncMap<T, E: Error>(_ transform: (Wrapped) async throws(E) -> T) async throws(E) -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
