#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LocalityCore
import NIOCore
import NIOPosix
import Testing

@testable import LocalityMembership

/// What NIO throws when nothing listens, and how the shell classifies it.
@Suite(.timeLimit(.minutes(1))) struct ConnectionRefusalTests {
    @Test func connectingToAClosedLoopbackPortIsClassifiedAsRefused() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // A port that was just free: bind, note it, close.
        let listener = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(listener.localAddress?.port)
        try await listener.close().get()
        var settings = GossipSettings()
        settings.connectTimeout = .seconds(2)
        var thrown: (any Error)?
        do {
            _ = try await GossipSockets.sendFrame(
                to: NodeAddress(host: "127.0.0.1", port: port), group: group, settings: settings) { [1, 2, 3] }
        } catch {
            thrown = error
        }
        try await group.shutdownGracefully()
        let error = try #require(thrown)
        #expect(ConnectionRefusal.classify(error) == .refused, "\(error)")
    }

    @Test func otherErrorsAreNotRefusals() {
        #expect(ConnectionRefusal.classify(IOError(errnoCode: ECONNREFUSED, reason: "connect")) == .refused)
        #expect(ConnectionRefusal.classify(IOError(errnoCode: ETIMEDOUT, reason: "connect")) == .other)
        #expect(ConnectionRefusal.classify(ChannelError.connectTimeout(.seconds(1))) == .other)
        #expect(ConnectionRefusal.classify(LocalityError(.unavailable, "closed")) == .other)
    }
}
