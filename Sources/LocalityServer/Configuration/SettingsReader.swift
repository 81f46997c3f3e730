import Configuration
import Foundation
import LocalityActors
import LocalityCore
import LocalityGateway
import LocalityMembership
import LocalityPlacement
import LocalityStorage
import LocalityTransport
import Logging

/// Reads and checks each `NodeSettingKey` through one `ConfigReader`, and names the layer
/// a value came from (flag, environment variable or file) when it is wrong.
struct SettingsReader {
    let config: ConfigReader
    let flags: [String: String]
    let environment: [String: String]
    let file: ConfigurationFile?

    /// Where the value of `key` in force came from, and as what text.
    func origin(of key: NodeSettingKey) -> (source: String, value: String)? {
        if let value = flags[key.name] { return ("flag \(key.flag)", value) }
        if let value = environment[key.environmentVariable] { return ("environment variable \(key.environmentVariable)", value) }
        if let file, let value = file.entries[key.name] { return ("file \(file.path)", value) }
        return nil
    }

    func error(_ key: NodeSettingKey, problem: String) -> NodeConfigurationError {
        let origin = origin(of: key)
        return NodeConfigurationError(key: key, value: origin?.value, source: origin?.source, problem: problem)
    }

    func string(_ key: NodeSettingKey) -> String? { config.string(forKey: ConfigKey([key.name]), isSecret: key.isSecret) }
    func int(_ key: NodeSettingKey) -> Int? { config.int(forKey: ConfigKey([key.name])) }
    func double(_ key: NodeSettingKey) -> Double? { config.double(forKey: ConfigKey([key.name])) }
    func list(_ key: NodeSettingKey) -> [String]? { config.stringArray(forKey: ConfigKey([key.name])) }

    /// A whole number ≥ 1.
    func positive(_ key: NodeSettingKey, errors: inout [NodeConfigurationError]) -> Int? {
        guard let value = int(key) else { return nil }
        guard value >= 1 else {
            errors.append(error(key, problem: "must be at least 1"))
            return nil
        }
        return value
    }

    /// A `host:port` with a real port; with `allowPortZero`, port 0 too (pick a free one).
    func address(_ key: NodeSettingKey, allowPortZero: Bool, errors: inout [NodeConfigurationError]) -> NodeAddress? {
        guard let text = string(key) else { return nil }
        guard let address = NodeAddress(parsing: text) ?? (allowPortZero ? Self.portZero(text) : nil) else {
            errors.append(error(key, problem: "not host:port"))
            return nil
        }
        return address
    }

    /// `host:0` as an address with port 0 (`NodeAddress(parsing:)` takes 1…65535 only).
    static func portZero(_ text: String) -> NodeAddress? {
        guard let colon = text.lastIndex(of: ":"), text[text.index(after: colon)...] == "0" else { return nil }
        return NodeAddress(parsing: String(text[..<colon]) + ":1").map { NodeAddress(host: $0.host, port: 0) }
    }

    /// The whole configuration, or nil with `errors` saying why.
    func read(errors: inout [NodeConfigurationError]) -> NodeConfiguration? {
        let name = string(.nodeName)
        if name == nil { errors.append(error(.nodeName, problem: "missing")) }
        if let name, !(1...255).contains(name.utf8.count) { errors.append(error(.nodeName, problem: "must be 1…255 UTF-8 bytes")) }
        let bind = address(.bind, allowPortZero: false, errors: &errors)
        if bind == nil, string(.bind) == nil { errors.append(error(.bind, problem: "missing")) }
        let (keyring, keyringFile) = readKeyring(errors: &errors)
        var seeds: [NodeAddress] = []
        for text in list(.seeds) ?? [] {
            guard let seed = NodeAddress(parsing: text) else {
                errors.append(error(.seeds, problem: "'\(text)' is not host:port"))
                continue
            }
            seeds.append(seed)
        }
        var logLevel = Logger.Level.info
        if let text = string(.logLevel) {
            if let level = Logger.Level(rawValue: text) { logLevel = level } else { errors.append(error(.logLevel, problem: "unknown level")) }
        }
        var swim = SWIMSettings()
        if let value = positive(.probeIntervalMs, errors: &errors) { swim.probeInterval = .milliseconds(value) }
        if let value = positive(.probeTimeoutMs, errors: &errors) { swim.probeTimeout = .milliseconds(value) }
        if let value = positive(.gossipIntervalMs, errors: &errors) { swim.gossipInterval = .milliseconds(value) }
        if let value = double(.suspicionMult) {
            if value > 0, value.isFinite { swim.suspicionMult = value } else { errors.append(error(.suspicionMult, problem: "must be a number > 0")) }
        }
        let transport = address(.transport, allowPortZero: true, errors: &errors)
        let http = address(.http, allowPortZero: true, errors: &errors)
        let httpMaxConnections = positive(.httpMaxConnections, errors: &errors)
        let httpIdleTimeoutS = positive(.httpIdleTimeoutS, errors: &errors)
        let transportTLS = readTransportTLS(errors: &errors)
        let httpAuth = readGatewayAuth(errors: &errors)
        let httpTLS = readGatewayTLS(errors: &errors)
        var store: StateStoreLocation?
        if let text = string(.store) {
            do { store = try StateStoreLocation(parsing: text) } catch { errors.append(self.error(.store, problem: (error as? LocalityError)?.message ?? "\(error)")) }
        }
        var actors = ActorSettings()
        if let value = positive(.idleTimeoutS, errors: &errors) { actors.idleTimeout = .seconds(value) }
        if let value = positive(.maxActivations, errors: &errors) { actors.maxActivations = value }
        if let value = positive(.idempotencyWindowS, errors: &errors) { actors.idempotency.window = .seconds(value) }
        if let value = positive(.idempotencyKeysPerActor, errors: &errors) { actors.idempotency.keysPerActor = value }
        if let text = string(.placement) {
            // Two-choices draws from a stream seeded with the node's uid (random per start).
            if ["hash", "prefer-local", "two-choices"].contains(text), let mode = ActorPlacement(name: text) {
                actors.placement = mode
            } else {
                errors.append(error(.placement, problem: "unknown placement"))
            }
        }
        var ring = RingAlgorithm.rendezvousBuckets
        if let text = string(.ring) {
            if let algorithm = RingAlgorithm(rawValue: text) { ring = algorithm } else { errors.append(error(.ring, problem: "unknown ring algorithm")) }
        }
        actors.collectionQuantum = min(actors.collectionQuantum, max(.seconds(1), actors.idleTimeout / 4))
        guard let name, let bind, let keyring else { return nil }
        var configuration = NodeConfiguration(name: name, bind: bind, keyring: keyring)
        configuration.keyringFile = keyringFile
        configuration.seeds = seeds
        configuration.metadata = string(.metadata) ?? ""
        configuration.logLevel = logLevel
        configuration.swim = swim
        configuration.transport = transport
        configuration.http = http
        if let httpMaxConnections { configuration.httpMaxConnections = httpMaxConnections }
        if let httpIdleTimeoutS { configuration.httpIdleTimeout = .seconds(httpIdleTimeoutS) }
        configuration.httpAuth = httpAuth
        configuration.httpTLS = httpTLS
        configuration.store = store
        configuration.transportTLS = transportTLS
        configuration.ring = ring
        configuration.dataDirectory = string(.dataDir)
        configuration.actors = actors
        if transport == nil, bind.port + 1000 > 65_535 {
            errors.append(error(.transport, problem: "missing, and its default (bind port + 1000) is not a port"))
        }
        return configuration
    }

    /// Transport TLS from `tls-cert`, `tls-key` and `tls-ca`: all three or none. The files
    /// are read when the node starts (a bad one stops it there with the file named).
    private func readTransportTLS(errors: inout [NodeConfigurationError]) -> TransportTLSSettings? {
        let reload = positive(.tlsReloadIntervalS, errors: &errors)
        let files = [NodeSettingKey.tlsCert, .tlsKey, .tlsCA].map { ($0, string($0)) }
        let given = files.filter { $0.1 != nil }
        guard !given.isEmpty else {
            if reload != nil { errors.append(error(.tlsReloadIntervalS, problem: "set without tls-cert, tls-key and tls-ca")) }
            return nil
        }
        for (key, value) in files where value == nil {
            errors.append(error(key, problem: "missing: tls-cert, tls-key and tls-ca go together"))
        }
        for (key, value) in given where !FileManager.default.isReadableFile(atPath: value ?? "") {
            errors.append(error(key, problem: "cannot read the file"))
        }
        guard given.count == files.count, let cert = files[0].1, let key = files[1].1, let ca = files[2].1 else { return nil }
        return TransportTLSSettings(certificatePath: cert, privateKeyPath: key, trustRootsPath: ca, reloadInterval: .seconds(reload ?? 30))
    }

    /// How high the layer `key`'s value came from ranks: flag 3, environment 2, file 1.
    private func layer(of key: NodeSettingKey) -> Int {
        if flags[key.name] != nil { return 3 }
        if environment[key.environmentVariable] != nil { return 2 }
        return file?.entries[key.name] != nil ? 1 : 0
    }

    /// The keyring from `cluster-key` (the key itself) or `cluster-key-file`, whichever
    /// comes from the higher layer; both in one layer is an error. Also the file's path
    /// when the keyring came from it (the node watches it for rotations).
    private func readKeyring(errors: inout [NodeConfigurationError]) -> (ClusterKeyring?, String?) {
        let keyLayer = layer(of: .clusterKey)
        let fileLayer = layer(of: .clusterKeyFile)
        if keyLayer > 0, keyLayer == fileLayer {
            errors.append(error(.clusterKey, problem: "set together with cluster-key-file in the same place; set one of them"))
            return (nil, nil)
        }
        if keyLayer > fileLayer, let text = string(.clusterKey) {
            do {
                return (try ClusterKeyring(fileText: text), nil)
            } catch {
                errors.append(self.error(.clusterKey, problem: error.message))
                return (nil, nil)
            }
        }
        guard let path = string(.clusterKeyFile) else {
            errors.append(error(.clusterKeyFile, problem: "missing (set cluster-key-file or cluster-key)"))
            return (nil, nil)
        }
        do {
            return (try ClusterKeyring(contentsOfFile: path), path)
        } catch {
            errors.append(self.error(.clusterKeyFile, problem: error.message))
            return (nil, nil)
        }
    }

    /// The gateway's authentication from `http-tokens-file` and the `http-jwt-…` keys; nil
    /// when none of the token sources is set. Issuer or audience without a JWT key is an error.
    private func readGatewayAuth(errors: inout [NodeConfigurationError]) -> GatewayAuthSettings? {
        var tokens: [GatewayToken] = []
        if let path = string(.httpTokensFile) {
            do { tokens = try GatewayTokensFile.load(path) } catch { errors.append(self.error(.httpTokensFile, problem: error.message)) }
        }
        var secret: [UInt8]?
        if let path = string(.httpJWTHMACSecretFile) {
            if let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) {
                secret = Array(text.trimmingCharacters(in: .newlines).utf8)
            } else {
                errors.append(error(.httpJWTHMACSecretFile, problem: "cannot read the file as UTF-8 text"))
            }
        }
        var pem: String?
        if let path = string(.httpJWTPublicKeyFile) {
            if let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) {
                pem = text
            } else {
                errors.append(error(.httpJWTPublicKeyFile, problem: "cannot read the file as UTF-8 text"))
            }
        }
        let issuer = string(.httpJWTIssuer)
        let audience = string(.httpJWTAudience)
        var jwt: GatewayJWTSettings?
        if secret != nil || pem != nil {
            // Each key checked alone first, so the error names the setting at fault.
            var valid = true
            if let secret {
                do { _ = try GatewayJWTSettings(hmacSecret: secret) } catch {
                    errors.append(self.error(.httpJWTHMACSecretFile, problem: error.message))
                    valid = false
                }
            }
            if let pem {
                do { _ = try GatewayJWTSettings(publicKeyPEM: pem) } catch {
                    errors.append(self.error(.httpJWTPublicKeyFile, problem: error.message))
                    valid = false
                }
            }
            if valid { jwt = try? GatewayJWTSettings(hmacSecret: secret, publicKeyPEM: pem, issuer: issuer, audience: audience) }
        } else if string(.httpJWTHMACSecretFile) == nil, string(.httpJWTPublicKeyFile) == nil {
            if issuer != nil { errors.append(error(.httpJWTIssuer, problem: "set without a JWT key (http-jwt-hmac-secret-file or http-jwt-public-key-file)")) }
            if audience != nil { errors.append(error(.httpJWTAudience, problem: "set without a JWT key (http-jwt-hmac-secret-file or http-jwt-public-key-file)")) }
        }
        guard !tokens.isEmpty || jwt != nil else { return nil }
        return GatewayAuthSettings(tokens: tokens, jwt: jwt)
    }

    /// HTTPS for the gateway from `http-tls-cert` and `http-tls-key` (both or neither).
    private func readGatewayTLS(errors: inout [NodeConfigurationError]) -> GatewayTLSSettings? {
        switch (string(.httpTLSCert), string(.httpTLSKey)) {
        case (nil, nil):
            return nil
        case (let certificate?, let key?):
            do {
                return try GatewayTLSSettings(certificateFile: certificate, keyFile: key)
            } catch {
                errors.append(self.error(error.message.contains(key) && !error.message.contains(certificate) ? .httpTLSKey : .httpTLSCert,
                                         problem: error.message))
                return nil
            }
        case (nil, _?):
            errors.append(error(.httpTLSCert, problem: "missing: http-tls-key is set, HTTPS needs both"))
            return nil
        case (_?, nil):
            errors.append(error(.httpTLSKey, problem: "missing: http-tls-cert is set, HTTPS needs both"))
            return nil
        }
    }
}
