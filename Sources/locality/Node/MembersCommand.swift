import ArgumentParser
import Foundation
import LocalityCore
import LocalityMembership

/// `locality members`: prints a running node's view, asked over its authenticated TCP port.
struct MembersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "members",
        abstract: "Print the member list as a running node sees it.")

    @Option(help: "host:port of the node to ask.")
    var node: String

    @Option(help: "File with the cluster key (same format as for `locality node`).")
    var clusterKeyFile: String

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: "Connect and read timeout in milliseconds.")
    var timeoutMs: Int = 2000

    /// One member as printed with `--json`.
    struct MemberJSON: Codable {
        var name: String
        var uid: String
        var address: String
        var status: String
        var incarnation: UInt64
        var metadata: String
    }

    /// The `--json` document.
    struct ViewJSON: Codable {
        var responder: String
        var members: [MemberJSON]
    }

    func run() async throws {
        guard let address = NodeAddress(parsing: node) else { throw ValidationError("--node must be host:port, got \(node)") }
        let keyring = try ClusterKeyFile.load(clusterKeyFile)
        let view = try await MembersQuery.fetch(from: address, keyring: keyring, timeout: .milliseconds(max(1, timeoutMs)))
        let members = view.members.map {
            MemberJSON(
                name: $0.id.name, uid: String($0.id.uid, radix: 16), address: $0.address.description,
                status: $0.status.description, incarnation: $0.incarnation,
                metadata: String(decoding: $0.metadata, as: UTF8.self))
        }
        if json {
            print(try ViewJSON(responder: view.responder.description, members: members).sortedKeysJSON())
        } else {
            print("NAME".padding(12) + "UID".padding(18) + "ADDRESS".padding(24) + "STATUS".padding(9) + "INCARNATION")
            for member in members {
                print(member.name.padding(12) + member.uid.padding(18) + member.address.padding(24) + member.status.padding(9) + "\(member.incarnation)")
            }
        }
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
