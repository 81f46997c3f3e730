/// Mutual TLS for the node-to-node transport: every node presents a certificate signed by
/// the cluster's CA and accepts only peers whose certificate that CA signed.
///
/// All three files are PEM. The certificate file may hold a chain (leaf first). The
/// certificate and key are read again every `reloadInterval`, so a renewed pair takes
/// effect for new connections without a restart; connections already open keep the pair
/// they were made with. The CA bundle is read at start: to change CAs, first give every
/// node a bundle that holds both the old and the new CA (a rolling restart), then renew
/// the certificates, then drop the old CA (docs/security.md).
///
/// Peers are checked against the CA but not against a host name (nodes reach each other
/// by address, often an IP); which node a peer is, is proven by the cluster-key handshake
/// that follows, a second factor on top of the certificate.
public struct TransportTLSSettings: Sendable, Hashable {
    /// This node's certificate (chain), PEM.
    public var certificatePath: String
    /// This node's private key, PEM; it must match the certificate.
    public var privateKeyPath: String
    /// The cluster CA bundle, PEM: peers must present a certificate one of these signed.
    public var trustRootsPath: String
    /// How often the certificate and key files are read again. Default 30 s.
    public var reloadInterval: Duration

    /// Mutual TLS with the given files (see the type's doc for their format).
    public init(certificatePath: String, privateKeyPath: String, trustRootsPath: String, reloadInterval: Duration = .seconds(30)) {
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        self.trustRootsPath = trustRootsPath
        self.reloadInterval = reloadInterval
    }
}
