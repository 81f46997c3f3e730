import LocalityCore
import Logging
import NIOCore

/// Moving bytes: receiving, authenticating and decoding packets, executing the core's
/// directives, answering members queries.
extension GossipMembership {
    // MARK: - inbound

    /// Receives on `channel` until it closes; sends go through it meanwhile.
    func serveDatagrams(_ channel: GossipSockets.DatagramChannel) async throws {
        try await channel.executeThenClose { inbound, outbound in
            udpSocket.install(channel.channel, writer: outbound)
            defer { udpSocket.remove(channel.channel) }
            for try await datagram in inbound {
                self.receiveDatagram(Array(buffer: datagram.data))
            }
        }
    }

    /// Serves datagrams on `first`, and whenever NIO closes the socket on a send error,
    /// binds the port again (backoff from 50 ms to 1 s). Gives up, and so fails the node,
    /// only when the port cannot be bound again for `GossipSettings.udpRebindAttempts`.
    func serveDatagramsRebinding(_ first: GossipSockets.DatagramChannel) async -> Ending {
        var channel = first
        while true {
            do {
                try await serveDatagrams(channel)
            } catch {
                if !Task.isCancelled { logger.warning("UDP socket failed", metadata: ["error": "\(error)"]) }
            }
            if Task.isCancelled { return .cancelled }
            metrics.udpRebinds.increment()
            // A firewall that drops every send closes the socket again and again: warn once
            // a minute, count every time (locality_gossip_udp_rebinds_total).
            let now = ContinuousClock.now
            if lastRebindWarning.map({ now - $0 >= .seconds(60) }) ?? true {
                lastRebindWarning = now
                logger.warning("UDP socket closed (a send failed, e.g. a local firewall dropped it): binding it again")
            }
            var delay = Duration.milliseconds(50)
            var attempts = 0
            while true {
                do { try await Task.sleep(for: delay) } catch { return .cancelled }
                do {
                    channel = try await GossipSockets.bindDatagram(group: group, address: address, settings: settings)
                    break
                } catch {
                    attempts += 1
                    if attempts >= settings.udpRebindAttempts {
                        return .failed("UDP socket closed and not bound again after \(attempts) attempts: \(error)")
                    }
                    delay = min(delay * 2, .seconds(1))
                }
            }
        }
    }

    /// Sends queued datagrams through the current UDP socket until the queue finishes.
    func deliverDatagrams() async {
        for await datagram in datagramSends {
            // Before the first socket is installed (start-up) or while it is bound again,
            // wait up to 250 ms for one; then the datagram is lost, like on the wire.
            var writer = udpSocket.writer
            var waited = 0
            while writer == nil, waited < 50, !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(5))
                waited += 1
                writer = udpSocket.writer
            }
            try? await writer?.write(datagram)
        }
    }

    func receiveDatagram(_ bytes: [UInt8]) {
        metrics.received(.udp, bytes: bytes.count)
        guard bytes.count <= settings.maxDatagramBytes else { return drop(.oversized, transport: "udp") }
        guard let opened = open(bytes, transport: "udp") else { return }
        guard opened.content == .swim else { return drop(.malformed, transport: "udp") }
        guard let envelope = decodeEnvelope(opened, transport: "udp") else { return }
        execute(core.receive(envelope, via: .datagram, now: clock.now()))
    }

    /// Handles one TCP frame.
    func receiveFrame(_ bytes: [UInt8]) -> FrameOutcome {
        metrics.received(.tcp, bytes: bytes.count)
        guard let opened = open(bytes, transport: "tcp") else { return .close }
        switch opened.content {
        case .swim:
            guard let envelope = decodeEnvelope(opened, transport: "tcp") else { return .close }
            execute(core.receive(envelope, via: .stream, now: clock.now()))
            return .proceed
        case .membersQuery:
            do {
                let payload = try MembersReplyCodec.encode(responder: localNode, members: core.members)
                let reply = seal(payload, content: .membersReply)
                metrics.sent(.tcp, bytes: reply.count)
                return .reply(reply)
            } catch {
                logger.warning("cannot encode the member list", metadata: ["error": "\(error)"])
                return .close
            }
        case .membersReply:
            drop(.malformed, transport: "tcp")
            return .close
        }
    }

    /// Decrypts with the keyring in force (verifying the tag), then checks the replay
    /// window. Counts and logs drops.
    private func open(_ bytes: [UInt8], transport: String) -> PacketSeal.Opened? {
        switch PacketSeal.open(bytes, keyring: clusterKeys.current) {
        case .failure(let error):
            drop(error.reason, transport: transport)
            return nil
        case .success(let opened):
            guard replay.accept(sender: opened.sender, counter: opened.counter) else {
                drop(.replay, transport: transport)
                return nil
            }
            if opened.openedWithAcceptedKey { metrics.openedWithAcceptedKey.increment() }
            return opened
        }
    }

    private func decodeEnvelope(_ opened: PacketSeal.Opened, transport: String) -> SWIMEnvelope? {
        let envelope: SWIMEnvelope
        do {
            envelope = try SWIMCodec.decode(opened.payload, maxBytes: settings.maxFrameBytes)
        } catch {
            drop(.malformed, transport: transport)
            return nil
        }
        // The seal's sender uid must be the envelope's: one member cannot spend another's counters.
        guard envelope.sender.uid == opened.sender else {
            drop(.senderMismatch, transport: transport)
            return nil
        }
        return envelope
    }

    /// Counts a dropped packet; logs it at debug, and packets under an unknown key or seal
    /// version (a node left behind by a key rotation or an upgrade, or another cluster) also
    /// as a warning at most once a minute, with how many were not logged since.
    func drop(_ reason: PacketSeal.DropReason, transport: String) {
        metrics.dropped(reason)
        if reason == .badTag || reason == .wrongVersion, let suppressed = keyWarnings.shouldWarn(now: .now) {
            logger.warning(
                "gossip packet refused: sealed with a key not in the keyring (or another seal version)",
                metadata: [
                    "reason": "\(reason.rawValue)", "transport": "\(transport)", "not_logged_since_last": "\(suppressed)",
                    "generation": "\(clusterKeys.generation)",
                ])
        } else {
            logger.debug("packet dropped", metadata: ["reason": "\(reason.rawValue)", "transport": "\(transport)"])
        }
    }

    // MARK: - outbound

    func seal(_ payload: [UInt8], content: SealedContent) -> [UInt8] {
        sealCounter += 1
        return PacketSeal.seal(payload, content: content, sender: localNode.uid, counter: sealCounter, keyring: clusterKeys.current)
    }

    /// Executes directives in order: events go to the view and the log, datagrams to the
    /// UDP socket, stream messages to the outgoing connection queue.
    func execute(_ directives: [SWIMDirective]) {
        var membershipChanged = false
        for directive in directives {
            switch directive {
            case .event(let event):
                membershipChanged = true
                let drops = view.publish(event)
                if drops > 0 { metrics.eventsDropped.increment(by: drops) }
                log(event)
            case .send(let envelope, let destination, let transport):
                let payload: [UInt8]
                do {
                    payload = try SWIMCodec.encode(envelope)
                } catch {
                    logger.warning("cannot encode envelope", metadata: ["error": "\(error)"])
                    continue
                }
                switch transport {
                case .datagram: sendDatagram(seal(payload, content: .swim), to: destination)
                case .stream: enqueueStreamSend(payload, to: destination)
                }
            }
        }
        if membershipChanged { metrics.record(members: core.members) }
    }

    /// Queues a datagram for the socket writer; when `outboundDatagramQueue` datagrams
    /// wait already, it is dropped and counted as `overloaded` (UDP may lose it anyway).
    private func sendDatagram(_ bytes: [UInt8], to destination: NodeAddress) {
        let remote: SocketAddress
        do {
            remote = try addresses.resolve(destination)
        } catch {
            logger.debug("cannot resolve", metadata: ["address": "\(destination)", "error": "\(error)"])
            return
        }
        let datagram = GossipSockets.Datagram(remoteAddress: remote, data: ByteBuffer(bytes: bytes))
        if case .dropped = datagramSendQueue.yield(datagram) {
            drop(.overloaded, transport: "udp")
        } else {
            metrics.sent(.udp, bytes: bytes.count)
        }
    }

    private func enqueueStreamSend(_ payload: [UInt8], to destination: NodeAddress) {
        if case .dropped = streamSendQueue.yield(StreamSend(payload: payload, address: destination)) {
            drop(.overloaded, transport: "tcp")
            execute(core.streamFailed(to: destination, now: clock.now()))
        }
    }

    /// Opens connections for queued stream sends, at most `outboundStreamWorkers` at once.
    nonisolated func deliverStreamSends() async {
        let workers = max(1, settings.outboundStreamWorkers)
        await withTaskGroup(of: Void.self) { tasks in
            var inFlight = 0
            for await send in streamSends {
                if inFlight >= workers {
                    await tasks.next()
                    inFlight -= 1
                }
                inFlight += 1
                tasks.addTask {
                    do {
                        let bytes = try await GossipSockets.sendFrame(to: send.address, group: self.group, settings: self.settings) {
                            await self.seal(send.payload, content: .swim)
                        }
                        self.metrics.sent(.tcp, bytes: bytes)
                    } catch {
                        await self.streamFailed(send.address, error: error)
                    }
                }
            }
        }
    }

    /// A refused connection is reported as such: the core may take it as proof that the
    /// member under probe is gone (`SWIMSettings.refusedConnectionMeansDead`).
    private func streamFailed(_ destination: NodeAddress, error: any Error) {
        let reason = ConnectionRefusal.classify(error)
        logger.debug(
            "stream send failed",
            metadata: ["address": "\(destination)", "error": "\(error)", "refused": "\(reason == .refused)"])
        execute(core.streamFailed(to: destination, reason: reason, now: clock.now()))
    }

    private func log(_ event: MembershipEvent) {
        switch event {
        case .statusChanged(let member, let previous):
            logger.info(
                "member \(member.status)",
                metadata: [
                    "member": "\(member.id)", "address": "\(member.address)",
                    "previous": "\(previous.map(\.description) ?? "unknown")", "incarnation": "\(member.incarnation)",
                ])
        case .removed(let id):
            logger.info("member removed", metadata: ["member": "\(id)"])
        }
    }
}
