import Foundation

extension NodeConfiguration {
    /// Reads a configuration for a program's own `main`: `arguments` (as
    /// `CommandLine.arguments`, the program name first) hold `--KEY VALUE` or
    /// `--KEY=VALUE` for any `NodeSettingKey` and an optional `--config FILE`; then the
    /// `LOCALITY_…` environment and the file, as `load(flags:environment:file:)` does.
    ///
    /// An argument that is not `--KEY VALUE` for a known key fails with the others.
    public static func load(
        arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws(NodeConfigurationErrors) -> NodeConfiguration {
        var flags: [String: String] = [:]
        var file: String?
        var errors: [NodeConfigurationError] = []
        var rest = arguments.dropFirst()[...]
        while let argument = rest.popFirst() {
            guard argument.hasPrefix("--"), argument.count > 2 else {
                errors.append(NodeConfigurationError(key: nil, value: nil, source: nil, problem: "unexpected argument '\(argument)'; settings are --KEY VALUE"))
                continue
            }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            } else {
                value = rest.popFirst()
            }
            guard let value else {
                errors.append(NodeConfigurationError(key: NodeSettingKey.named(name), value: nil, source: "flag --\(name)", problem: "has no value"))
                continue
            }
            if name == "config" { file = value } else { flags[name] = value }
        }
        do throws(NodeConfigurationErrors) {
            let configuration = try await load(flags: flags, environment: environment, file: file)
            guard errors.isEmpty else { throw NodeConfigurationErrors(errors: errors) }
            return configuration
        } catch {
            let seen = Set(errors.map(\.description))
            throw NodeConfigurationErrors(errors: errors + error.errors.filter { !seen.contains($0.description) })
        }
    }
}
