import Crypto
import Foundation
import LocalityCore
import SwiftASN1
import X509

/// A throwaway certificate authority for development clusters and tests (`locality
/// certs`): a P-256 CA and node certificates it signs, written as PEM files. Keys are
/// made in memory and written unencrypted; use your organisation's CA in production.
public struct DevelopmentCertificates: Sendable {
    /// The CA's name (its certificate's common name).
    public let name: String
    private let key: P256.Signing.PrivateKey
    /// The CA certificate.
    public let certificate: Certificate

    /// A new CA valid from an hour ago for `days` days.
    public init(name: String, days: Int = 365) throws(LocalityError) {
        self.name = name
        key = P256.Signing.PrivateKey()
        let now = Date()
        do {
            let subject = try DistinguishedName { CommonName(name) }
            certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
                notValidBefore: now - 3600, notValidAfter: now + Double(days) * 86_400, issuer: subject, subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                },
                issuerPrivateKey: .init(key)
            )
        } catch {
            throw LocalityError(.internal, "cannot make a CA certificate: \(error)")
        }
    }

    /// The CA certificate as PEM, with `others` after it (a bundle).
    public func bundlePEM(with others: [DevelopmentCertificates] = []) throws(LocalityError) -> String {
        do {
            return try ([self] + others).map { try $0.certificate.serializeAsPEM().pemString }.joined(separator: "\n") + "\n"
        } catch {
            throw LocalityError(.internal, "cannot encode a CA certificate: \(error)")
        }
    }

    /// A node certificate and its key as PEM: usable as client and server, for `hosts`
    /// (DNS names or IP addresses), valid from `validFrom` for `days` days (negative
    /// `validFrom` values date it in the past; tests make expired certificates this way).
    public func issue(
        _ node: String, hosts: [String] = ["localhost", "127.0.0.1"], validFrom: Date = Date() - 3600, days: Double = 365
    ) throws(LocalityError) -> (certificate: String, key: String) {
        let leafKey = P256.Signing.PrivateKey()
        do {
            let names = hosts.map { host -> GeneralName in
                if let address = IPv4Address(host) { return .ipAddress(ASN1OctetString(contentBytes: address.bytes[...])) }
                return .dnsName(host)
            }
            let leaf = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(leafKey.publicKey),
                notValidBefore: validFrom, notValidAfter: validFrom + days * 86_400,
                issuer: certificate.subject, subject: try DistinguishedName { CommonName(node) },
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.serverAuth, .clientAuth])
                    SubjectAlternativeNames(names)
                },
                issuerPrivateKey: .init(key)
            )
            return (try leaf.serializeAsPEM().pemString + "\n", try Certificate.PrivateKey(leafKey).serializeAsPEM().pemString + "\n")
        } catch {
            throw LocalityError(.internal, "cannot make a certificate for \(node): \(error)")
        }
    }
}

/// A dotted IPv4 address's four bytes.
private struct IPv4Address {
    let bytes: [UInt8]

    init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard let byte = UInt8(part) else { return nil }
            bytes.append(byte)
        }
        self.bytes = bytes
    }
}
