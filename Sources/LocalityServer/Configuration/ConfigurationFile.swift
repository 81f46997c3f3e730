import Configuration
import Foundation
import SystemPackage
import Yams

/// A node's configuration file (`--config FILE`): a JSON (`.json`) or YAML (any other
/// extension) mapping from `NodeSettingKey` names to values, flat:
///
/// ```yaml
/// name: node-a
/// bind: 10.0.0.5:7001
/// seeds: [10.0.0.6:7001, 10.0.0.7:7001]
/// probe-interval-ms: 500
/// ```
///
/// swift-configuration's `FileProvider` reads the values; this type checks first that the
/// file parses and holds only known keys with scalar or list values, so a misspelled key
/// stops the node instead of being ignored.
struct ConfigurationFile {
    let path: String
    /// The file's entries as written (for error messages).
    let entries: [String: String]
    let provider: any ConfigProvider

    static func open(_ path: String) async throws(NodeConfigurationErrors) -> ConfigurationFile {
        func failure(_ problem: String, key: NodeSettingKey? = nil, value: String? = nil) -> NodeConfigurationErrors {
            NodeConfigurationErrors(errors: [NodeConfigurationError(key: key, value: value, source: key == nil ? nil : "file \(path)", problem: problem)])
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw failure("cannot read the configuration file \(path)")
        }
        let isJSON = path.lowercased().hasSuffix(".json")
        let top: Any?
        do {
            if isJSON {
                top = try JSONSerialization.jsonObject(with: data)
            } else {
                guard let text = String(data: data, encoding: .utf8) else { throw failure("configuration file \(path) is not UTF-8 text") }
                top = try Yams.load(yaml: text)
            }
        } catch let error as NodeConfigurationErrors {
            throw error
        } catch {
            throw failure("configuration file \(path) does not parse as \(isJSON ? "JSON" : "YAML"): \(error)")
        }
        guard let mapping = top as? [String: Any] else {
            throw failure("configuration file \(path) must hold a mapping of keys to values at its top level")
        }
        var entries: [String: String] = [:]
        var errors: [NodeConfigurationError] = []
        for (name, value) in mapping.sorted(by: { $0.key < $1.key }) {
            guard let key = NodeSettingKey.named(name) else {
                let known = NodeSettingKey.all.map(\.name).joined(separator: ", ")
                errors.append(NodeConfigurationError(
                    key: nil, value: nil, source: nil,
                    problem: "configuration file \(path): unknown key '\(name)' (the keys are: \(known))"))
                continue
            }
            if let list = value as? [Any] {
                entries[name] = list.map { "\($0)" }.joined(separator: ",")
            } else if value is [String: Any] {
                errors.append(NodeConfigurationError(key: key, value: nil, source: "file \(path)", problem: "a nested mapping, not a value"))
            } else {
                entries[name] = "\(value)"
            }
        }
        guard errors.isEmpty else { throw NodeConfigurationErrors(errors: errors) }
        let provider: any ConfigProvider
        do {
            if isJSON {
                provider = try await FileProvider<JSONSnapshot>(filePath: FilePath(path))
            } else {
                provider = try await FileProvider<YAMLSnapshot>(filePath: FilePath(path))
            }
        } catch {
            throw failure("configuration file \(path): \(error)")
        }
        return ConfigurationFile(path: path, entries: entries, provider: provider)
    }
}
