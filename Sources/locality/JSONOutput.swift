import Foundation

extension Encodable {
    /// This value as one line of JSON with sorted keys: what every `--json` flag prints.
    func sortedKeysJSON() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
