import Foundation
import LocalityLauncher

/// The integration tests' process group: the `locality` binary under test is
/// `LOCALITY_BIN`, else `<package root>/.build/debug/locality`.
typealias NodeProcesses = NodeProcessGroup

extension NodeProcessGroup {
    convenience init() throws {
        try self.init(binary: Self.binaryUnderTest(), label: "it")
    }

    static func binaryUnderTest(filePath: String = #filePath) -> String {
        if let path = ProcessInfo.processInfo.environment["LOCALITY_BIN"], !path.isEmpty { return path }
        let root = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/locality").path
    }

    static func freePorts(_ count: Int) async throws -> [Int] { try await LoopbackPorts.free(count) }
}
