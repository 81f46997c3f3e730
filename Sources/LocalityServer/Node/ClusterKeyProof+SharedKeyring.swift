import LocalityMembership
import LocalityTransport

extension ClusterKeyProof {
    /// Handshake proofs with the keys in force in `keyring` at each handshake: proves with
    /// its primary, accepts its primary or accepted key, so the transport follows key
    /// rotations of the key file like gossip does.
    init(following keyring: SharedClusterKeyring) {
        self.init(currentKeys: {
            let keys = keyring.current
            return Keys(primary: keys.primary, accepted: keys.accepted)
        })
    }
}
