import Foundation
import LocalityCore
import LocalityServer
import Testing

/// `NodeConfiguration.load`: the three layers, their precedence, and the errors that stop
/// a node at start.
@Suite struct NodeConfigurationTests {
    let directory: URL
    let keyFile: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("locality-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        keyFile = directory.appendingPathComponent("cluster.key").path
        try "00112233445566778899aabbccddeeff".write(toFile: keyFile, atomically: true, encoding: .utf8)
    }

    func write(_ text: String, as name: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func problems(of error: NodeConfigurationErrors) -> String { error.description }

    @Test func environmentOverridesTheFileAndFlagsOverrideBoth() async throws {
        let file = try write("""
            name: from-file
            bind: 127.0.0.1:7001
            cluster-key-file: \(keyFile)
            probe-interval-ms: 700
            metadata: zone=file
            seeds: [127.0.0.1:7002, 127.0.0.1:7003]
            """, as: "node.yaml")
        let fileOnly = try await NodeConfiguration.load(environment: [:], file: file)
        #expect(fileOnly.name == "from-file")
        #expect(fileOnly.swim.probeInterval == .milliseconds(700))
        #expect(fileOnly.metadata == "zone=file")
        #expect(fileOnly.seeds.map(\.port) == [7002, 7003])

        let environment = ["LOCALITY_NAME": "from-env", "LOCALITY_PROBE_INTERVAL_MS": "800", "LOCALITY_METADATA": "zone=env"]
        let withEnvironment = try await NodeConfiguration.load(environment: environment, file: file)
        #expect(withEnvironment.name == "from-env")
        #expect(withEnvironment.swim.probeInterval == .milliseconds(800))
        #expect(withEnvironment.metadata == "zone=env")
        #expect(withEnvironment.bind.port == 7001)

        let withFlags = try await NodeConfiguration.load(
            flags: ["name": "from-flag", "probe-interval-ms": "900"], environment: environment, file: file)
        #expect(withFlags.name == "from-flag")
        #expect(withFlags.swim.probeInterval == .milliseconds(900))
        #expect(withFlags.metadata == "zone=env")
    }

    @Test func aJSONFileSetsEveryKey() async throws {
        let file = try write("""
            {"name": "n1", "bind": "127.0.0.1:7101", "seeds": ["127.0.0.1:7102"], "cluster-key-file": "\(keyFile)",
             "metadata": "zone=a", "log-level": "debug", "probe-interval-ms": 300, "probe-timeout-ms": 150,
             "gossip-interval-ms": 50, "suspicion-mult": 2.5, "transport": "127.0.0.1:0", "http": "127.0.0.1:0",
             "http-max-connections": 64, "http-idle-timeout-s": 7, "store": "memory", "data-dir": "/tmp/x",
             "idle-timeout-s": 60, "max-activations": 500, "placement": "two-choices", "idempotency-window-s": 30,
             "idempotency-keys-per-actor": 16}
            """, as: "node.json")
        let configuration = try await NodeConfiguration.load(environment: [:], file: file)
        #expect(configuration.swim.suspicionMult == 2.5)
        #expect(configuration.swim.gossipInterval == .milliseconds(50))
        #expect(configuration.transport?.port == 0)
        #expect(configuration.httpMaxConnections == 64)
        #expect(configuration.httpIdleTimeout == .seconds(7))
        #expect(configuration.storeInForce == .memory)
        #expect(configuration.dataDirectoryInForce == "/tmp/x")
        #expect(configuration.actors.maxActivations == 500)
        #expect(configuration.actors.idleTimeout == .seconds(60))
        #expect(configuration.actors.placement.description == "two-choices")
        #expect(configuration.actors.idempotency.window == .seconds(30))
        #expect(configuration.actors.idempotency.keysPerActor == 16)
        #expect(configuration.logLevel == .debug)
    }

    @Test func aWrongValueNamesTheKeyTheValueItsSourceAndWhatIsAllowed() async throws {
        let file = try write("name: n1\nbind: 127.0.0.1:7001\ncluster-key-file: \(keyFile)\n", as: "ok.yaml")
        do {
            _ = try await NodeConfiguration.load(environment: ["LOCALITY_PROBE_INTERVAL_MS": "soon"], file: file)
            Issue.record("a non-number probe interval loaded")
        } catch {
            let text = problems(of: error)
            #expect(text.contains("'probe-interval-ms'"))
            #expect(text.contains("LOCALITY_PROBE_INTERVAL_MS"))
            #expect(text.contains("\"soon\""))
            #expect(text.contains("allowed: milliseconds"))
        }
        do {
            _ = try await NodeConfiguration.load(flags: ["max-activations": "0", "placement": "nearest"], environment: [:], file: file)
            Issue.record("a zero bound loaded")
        } catch {
            #expect(error.errors.count == 2)
            #expect(problems(of: error).contains("flag --max-activations"))
            #expect(problems(of: error).contains("'placement'"))
        }
    }

    @Test func anUnknownKeyInTheFileStopsTheNode() async throws {
        let file = try write("name: n1\nbind: 127.0.0.1:7001\ncluster-key-file: \(keyFile)\nprobe-interval: 500\n", as: "typo.yaml")
        await #expect(throws: NodeConfigurationErrors.self) { try await NodeConfiguration.load(environment: [:], file: file) }
        do {
            _ = try await NodeConfiguration.load(environment: [:], file: file)
        } catch {
            #expect(problems(of: error).contains("unknown key 'probe-interval'"))
        }
    }

    @Test func aFileThatDoesNotParseStopsTheNode() async throws {
        let file = try write("{\"name\": \"n1\", ", as: "broken.json")
        do {
            _ = try await NodeConfiguration.load(environment: [:], file: file)
            Issue.record("a broken file loaded")
        } catch {
            #expect(problems(of: error).contains("does not parse as JSON"))
        }
        do {
            _ = try await NodeConfiguration.load(environment: [:], file: directory.appendingPathComponent("absent.yaml").path)
            Issue.record("a missing file loaded")
        } catch {
            #expect(problems(of: error).contains("cannot read"))
        }
    }

    @Test func missingRequiredKeysAreAllReported() async throws {
        do {
            _ = try await NodeConfiguration.load(environment: [:])
            Issue.record("an empty configuration loaded")
        } catch {
            let text = problems(of: error)
            #expect(text.contains("'name'"))
            #expect(text.contains("'bind'"))
            #expect(text.contains("'cluster-key-file'"))
        }
    }

    @Test func theClusterKeyCanComeFromTheEnvironmentAndIsNeverEchoed() async throws {
        let loaded = try await NodeConfiguration.load(
            flags: ["name": "n1", "bind": "127.0.0.1:7001"], environment: ["LOCALITY_CLUSTER_KEY": "00112233445566778899aabbccddeeff"])
        #expect(loaded.name == "n1")
        #expect(loaded.keyringFile == nil)  // nothing to watch for rotations
        do {
            _ = try await NodeConfiguration.load(flags: ["name": "n1", "bind": "127.0.0.1:7001"], environment: ["LOCALITY_CLUSTER_KEY": "abcd"])
            Issue.record("a 2-byte key loaded")
        } catch {
            #expect(problems(of: error).contains("<secret>"))
            #expect(!problems(of: error).contains("abcd"))
        }
    }

    @Test func aClusterKeyFileFlagBeatsAClusterKeyInTheEnvironment() async throws {
        let fromFlag = try await NodeConfiguration.load(
            flags: ["name": "n1", "bind": "127.0.0.1:7001", "cluster-key-file": keyFile],
            environment: ["LOCALITY_CLUSTER_KEY": "ffeeddccbbaa99887766554433221100"])
        #expect(fromFlag.keyring.primary.withUnsafeBytes { Array($0) }.first == 0x00)
        #expect(fromFlag.keyringFile == keyFile)  // watched for rotations
        do {
            _ = try await NodeConfiguration.load(
                flags: ["name": "n1", "bind": "127.0.0.1:7001", "cluster-key-file": keyFile, "cluster-key": "ffeeddccbbaa99887766554433221100"],
                environment: [:])
            Issue.record("both keys in one layer loaded")
        } catch {
            #expect(error.description.contains("set one of them"))
        }
    }

    @Test func transportTLSNeedsItsThreeFilesTogether() async throws {
        let cert = try write("cert", as: "n1.crt")
        let key = try write("key", as: "n1.key")
        let ca = try write("ca", as: "ca.pem")
        let base = ["name": "n1", "bind": "127.0.0.1:7001", "cluster-key-file": keyFile]
        let loaded = try await NodeConfiguration.load(
            flags: base.merging(["tls-cert": cert, "tls-key": key, "tls-ca": ca, "tls-reload-interval-s": "5"]) { $1 }, environment: [:])
        #expect(loaded.transportTLS?.certificatePath == cert)
        #expect(loaded.transportTLS?.privateKeyPath == key)
        #expect(loaded.transportTLS?.trustRootsPath == ca)
        #expect(loaded.transportTLS?.reloadInterval == .seconds(5))
        #expect(try await NodeConfiguration.load(flags: base, environment: [:]).transportTLS == nil)
        do {
            _ = try await NodeConfiguration.load(flags: base.merging(["tls-cert": cert]) { $1 }, environment: ["LOCALITY_TLS_CA": "/nope.pem"])
            Issue.record("half a TLS configuration loaded")
        } catch {
            #expect(error.description.contains("'tls-key'") && error.description.contains("go together"), "\(error.description)")
            #expect(error.description.contains("'tls-ca'") && error.description.contains("cannot read the file"), "\(error.description)")
        }
    }

    @Test func everyKeyHasOneFlagAndOneEnvironmentVariable() {
        let names = NodeSettingKey.all.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(NodeSettingKey.probeIntervalMs.environmentVariable == "LOCALITY_PROBE_INTERVAL_MS")
        #expect(NodeSettingKey.clusterKeyFile.flag == "--cluster-key-file")
        #expect(NodeSettingKey.all.allSatisfy { !$0.allowed.isEmpty })
    }
}

/// `NodeConfiguration.load(arguments:)`, the entry for a program's own `main`.
@Suite struct NodeArgumentsTests {
    @Test func argumentsReadAsFlagsInBothSpellings() async throws {
        let loaded = try await NodeConfiguration.load(
            arguments: ["cart-service", "--name", "n1", "--bind=127.0.0.1:7001", "--cluster-key", "00112233445566778899aabbccddeeff",
                        "--max-activations", "10"],
            environment: ["LOCALITY_MAX_ACTIVATIONS": "20"])
        #expect(loaded.name == "n1")
        #expect(loaded.bind.port == 7001)
        #expect(loaded.actors.maxActivations == 10)
    }

    @Test func anUnknownFlagOrAStrayArgumentFails() async throws {
        do {
            _ = try await NodeConfiguration.load(arguments: ["p", "--name", "n1", "--colour", "red", "stray"], environment: [:])
            Issue.record("unknown arguments loaded")
        } catch {
            #expect(error.description.contains("unknown flag --colour"))
            #expect(error.description.contains("unexpected argument 'stray'"))
        }
    }
}
