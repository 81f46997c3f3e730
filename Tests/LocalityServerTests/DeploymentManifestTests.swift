import Foundation
import LocalityServer
import Testing
import Yams

/// The Dockerfile and the Kubernetes manifests in `deploy/kubernetes/` against the node's
/// configuration: every flag, environment variable and file key they use exists, and the
/// pieces a rolling deploy relies on are there. No Docker engine or cluster runs here, so
/// this is what keeps them from drifting apart from the code.
@Suite struct DeploymentManifestTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let validKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

    /// Every document of every manifest, by kind.
    func documents() throws -> [String: [[String: Any]]] {
        let folder = Self.root.appendingPathComponent("deploy/kubernetes")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }.sorted()
        var byKind: [String: [[String: Any]]] = [:]
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for document in try Yams.load_all(yaml: text) {
                let mapping = try #require(document as? [String: Any], "\(file): a document that is not a mapping")
                let kind = try #require(mapping["kind"] as? String, "\(file): a document without kind")
                byKind[kind, default: []].append(mapping)
            }
        }
        return byKind
    }

    func container(_ documents: [String: [[String: Any]]]) throws -> [String: Any] {
        let statefulSet = try #require(documents["StatefulSet"]?.first)
        let spec = try #require((statefulSet["spec"] as? [String: Any])?["template"] as? [String: Any])
        let containers = try #require((spec["spec"] as? [String: Any])?["containers"] as? [[String: Any]])
        return try #require(containers.first { $0["name"] as? String == "locality" })
    }

    @Test func everyFlagAndEnvironmentVariableOfTheStatefulSetIsASetting() throws {
        let container = try container(try documents())
        let arguments = (container["args"] as? [String] ?? []) + (container["command"] as? [String] ?? [])
        let flags = arguments.filter { $0.hasPrefix("--") }
        #expect(!flags.isEmpty)
        let known = Set(NodeSettingKey.all.map(\.flag) + ["--config"])
        for flag in flags { #expect(known.contains(flag), "the StatefulSet passes \(flag), which locality node does not have") }
        let variables = (container["env"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }.filter { $0.hasPrefix("LOCALITY_") }
        #expect(variables.contains("LOCALITY_CLUSTER_KEY"))
        let settings = Set(NodeSettingKey.all.map(\.environmentVariable))
        for variable in variables { #expect(settings.contains(variable), "the StatefulSet sets \(variable), which no setting reads") }
    }

    @Test func theConfigMapsFileLoadsWithTheStatefulSetsFlagsAndSecret() async throws {
        let documents = try documents()
        let configMap = try #require(documents["ConfigMap"]?.first { ($0["metadata"] as? [String: Any])?["name"] as? String == "locality-config" })
        let text = try #require((configMap["data"] as? [String: Any])?["locality.yaml"] as? String)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("locality-\(UUID().uuidString).yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        // The pod's flags with Kubernetes' $(VAR) references filled in as the kubelet would.
        let container = try container(documents)
        var arguments = ["locality"] + (container["args"] as? [String] ?? [])
        arguments = arguments.map {
            $0.replacingOccurrences(of: "$(POD_NAME)", with: "locality-0").replacingOccurrences(of: "$(POD_NAMESPACE)", with: "default")
        }
        let configPath = try #require(arguments.firstIndex(of: "--config").map { arguments[$0 + 1] })
        #expect(configPath == "/etc/locality/locality.yaml")
        arguments = arguments.map { $0 == configPath ? file.path : $0 }
        let configuration = try await NodeConfiguration.load(arguments: arguments, environment: ["LOCALITY_CLUSTER_KEY": Self.validKey])
        #expect(configuration.name == "locality-0")
        #expect(configuration.bind.host == "locality-0.locality-peers.default.svc.cluster.local")
        #expect(configuration.seeds.count == 3)
        #expect(configuration.seeds.allSatisfy { $0.host.contains(".locality-peers.") })
        #expect(configuration.http?.port == 8080)
    }

    @Test func theStatefulSetDrainsIsProbedAndIsCoveredByABudgetAndAHeadlessService() throws {
        let documents = try documents()
        let statefulSet = try #require(documents["StatefulSet"]?.first)
        let spec = try #require(statefulSet["spec"] as? [String: Any])
        let serviceName = try #require(spec["serviceName"] as? String)
        let headless = documents["Service"]?.first { ($0["metadata"] as? [String: Any])?["name"] as? String == serviceName }
        #expect((headless?["spec"] as? [String: Any])?["clusterIP"] as? String == "None", "the StatefulSet's service must be headless")
        #expect(documents["PodDisruptionBudget"]?.isEmpty == false)

        let container = try container(documents)
        let readiness = (container["readinessProbe"] as? [String: Any])?["httpGet"] as? [String: Any]
        #expect(readiness?["path"] as? String == "/readyz")
        let preStop = ((container["lifecycle"] as? [String: Any])?["preStop"] as? [String: Any])?["exec"] as? [String: Any]
        let command = (preStop?["command"] as? [String] ?? []).joined(separator: " ")
        #expect(command.contains("kill -TERM 1"), "the preStop hook must send SIGTERM to the node")

        // The cluster key comes from a Secret defined beside it.
        let keyReference = (container["env"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "LOCALITY_CLUSTER_KEY" }
        let secretName = ((keyReference?["valueFrom"] as? [String: Any])?["secretKeyRef"] as? [String: Any])?["name"] as? String
        #expect(secretName != nil)
        #expect(documents["Secret"]?.contains { ($0["metadata"] as? [String: Any])?["name"] as? String == secretName } == true)

        let podSecurity = ((spec["template"] as? [String: Any])?["spec"] as? [String: Any])?["securityContext"] as? [String: Any]
        #expect(podSecurity?["runAsNonRoot"] as? Bool == true)
    }

    @Test func theDockerfileBuildsInStagesAndRunsTheNodeAsANonRootUser() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("Dockerfile"), encoding: .utf8)
        let instructions = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(instructions.filter { $0.hasPrefix("FROM ") }.count >= 2, "a multi-stage build")
        let user = try #require(instructions.last { $0.hasPrefix("USER ") })
        #expect(!user.contains("root") && !user.hasPrefix("USER 0"), "\(user)")
        let entrypoint = try #require(instructions.first { $0.hasPrefix("ENTRYPOINT ") })
        #expect(entrypoint.contains("\"node\""))
        let settings = Set(NodeSettingKey.all.map(\.environmentVariable))
        for line in instructions where line.hasPrefix("ENV ") {
            let name = String(line.dropFirst(4).prefix { $0 != "=" && $0 != " " })
            #expect(settings.contains(name), "the Dockerfile sets \(name), which no setting reads")
        }
    }
}
