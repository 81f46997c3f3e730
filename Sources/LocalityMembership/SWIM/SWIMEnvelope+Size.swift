import LocalityCore

extension SWIMMessage {
    /// Bytes of the message's own fields (tag excluded), per the wire format in SWIMMessage.swift.
    public var encodedFieldSize: Int {
        switch self {
        case let .ping(_, target): 4 + target.encodedSize
        case let .pingRequest(_, target, address, _): 4 + target.encodedSize + address.encodedSize + 1
        case let .ack(_, target): 4 + target.encodedSize
        case .nack: 4
        case .gossip: 0
        case let .pushPull(_, _, states): 2 + 4 + states.reduce(0) { $0 + $1.encodedSize }
        }
    }
}

extension SWIMEnvelope {
    /// A conservative estimate of the encoded envelope: `overhead` bytes of framing
    /// (version, tag, counts, authentication) plus sender, message fields and gossip.
    public func estimatedEncodedSize(overhead: Int = 64) -> Int {
        overhead + sender.encodedSize + senderAddress.encodedSize + message.encodedFieldSize
            + gossip.reduce(0) { $0 + $1.encodedSize }
    }
}
