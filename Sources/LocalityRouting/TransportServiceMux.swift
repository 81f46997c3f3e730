import LocalityCore
import LocalityTransport
import NIOCore

/// Lets one `NodeTransport` serve several services: it dispatches each inbound call on
/// the first byte of its payload, which every service's wire format starts with and no
/// two services share. The byte is not consumed (each service decodes its own payload).
///
/// Bytes in use: 1 is the router (`RoutedEnvelope.version`, unchanged, so routers speak
/// the same wire with or without a mux), 0xD1 the directory (`DirectoryMessage.serviceTag`).
/// A call whose first byte names no service is answered `bad_request`.
public struct TransportServiceMux: TransportHandler {
    private let services: [UInt8: any TransportHandler]

    /// A mux over `services`, keyed by the leading byte of their payloads.
    public init(_ services: [UInt8: any TransportHandler]) {
        self.services = services
    }

    /// The usual pair: a router and a directory service on one transport.
    public init(router: Router, directory: DirectoryService) {
        self.init([RoutedEnvelope.version: router, DirectoryMessage.serviceTag: directory])
    }

    /// Hands `request` to the service its first byte names; `bad_request` for an empty payload or an unknown byte.
    public func handle(_ request: TransportRequest) async throws -> ByteBuffer {
        guard let tag = request.payload.getInteger(at: request.payload.readerIndex, as: UInt8.self) else {
            throw LocalityError(.badRequest, "empty payload names no service")
        }
        guard let service = services[tag] else {
            throw LocalityError(.badRequest, "no service for leading byte \(tag)")
        }
        return try await service.handle(request)
    }
}
