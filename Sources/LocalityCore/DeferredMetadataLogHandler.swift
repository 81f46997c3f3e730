import Logging

/// A `LogHandler` that keeps the logger's metadata itself and hands it to `base` only with
/// a message that is actually logged.
///
/// swift-log's `StreamLogHandler` renders its metadata into text on every change; a
/// framework that tags each request (Hummingbird sets a request id on its logger) paid
/// that per request even when nothing was logged: about 2 % of a node's CPU under load,
/// measured with perf. Wrap the handler you bootstrap with this one.
public struct DeferredMetadataLogHandler: LogHandler {
    /// The handler that writes messages (its own metadata stays empty).
    public var base: any LogHandler
    /// The metadata, merged into each logged message's metadata (the message's own wins).
    public var metadata: Logger.Metadata = [:]

    /// Defers `base`'s metadata.
    public init(_ base: any LogHandler) {
        var base = base
        self.metadata = base.metadata
        base.metadata = [:]
        self.base = base
    }

    /// The base handler's metadata provider.
    public var metadataProvider: Logger.MetadataProvider? {
        get { base.metadataProvider }
        set { base.metadataProvider = newValue }
    }

    /// The base handler's level.
    public var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    /// One metadata value, kept here until a message is logged.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Logs `event` through the base handler with this handler's metadata merged in.
    public func log(event: LogEvent) {
        var event = event
        if !metadata.isEmpty {
            event.metadata = event.metadata.map { metadata.merging($0) { _, own in own } } ?? metadata
        }
        base.log(event: event)
    }
}
