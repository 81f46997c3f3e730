import LocalityCore
import NIOCore
import NIOPosix

/// Asks a running gossip node for its member list over its authenticated TCP port
/// (`locality members`): one sealed `membersQuery` frame out, one sealed `membersReply` back.
public enum MembersQuery {
    /// The node's id and its current view. Throws `unauthenticated` when the reply's tag
    /// does not verify with `keyring` (a node with another key closes the connection
    /// instead, which surfaces as `unavailable`), `badRequest` on a malformed reply, or
    /// the connection error.
    public static func fetch(
        from address: NodeAddress, keyring: ClusterKeyring, timeout: Duration = .seconds(2),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> (responder: NodeID, members: [MemberState]) {
        var settings = GossipSettings()
        settings.connectTimeout = timeout
        settings.readTimeout = timeout
        var random = SystemRandomNumberGenerator()
        let query = PacketSeal.seal([], content: .membersQuery, sender: random.next(), counter: 1, keyring: keyring)
        let reply = try await GossipSockets.request(query, to: address, group: group, settings: settings)
        switch PacketSeal.open(reply, keyring: keyring) {
        case .failure(let error):
            throw LocalityError(.unauthenticated, "reply from \(address) rejected: \(error.reason.rawValue)")
        case .success(let opened):
            guard opened.content == .membersReply else {
                throw LocalityError(.badRequest, "unexpected reply content \(opened.content)")
            }
            return try MembersReplyCodec.decode(opened.payload)
        }
    }
}
