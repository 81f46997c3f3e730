import LocalityCore
import Logging
import Synchronization
import Testing

/// The wrapper hands the logger's metadata to its base handler with each logged message.
@Suite struct DeferredMetadataLogHandlerTests {
    final class Recorder: Sendable {
        let events = Mutex<[(String, Logger.Metadata)]>([])
    }

    struct RecordingHandler: LogHandler {
        let recorder: Recorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            var merged = metadata
            for (key, value) in event.metadata ?? [:] { merged[key] = value }
            recorder.events.withLock { $0.append((event.message.description, merged)) }
        }
    }

    @Test func metadataReachesTheBaseOnlyWithMessagesAndTheMessagesOwnWins() {
        let recorder = Recorder()
        var logger = Logger(label: "t") { _ in DeferredMetadataLogHandler(RecordingHandler(recorder: recorder)) }
        logger[metadataKey: "request"] = "r1"
        logger[metadataKey: "node"] = "n1"
        #expect(logger[metadataKey: "request"] == "r1")
        logger.info("hello", metadata: ["node": "override"])
        logger.logLevel = .error
        logger.info("dropped")
        let events = recorder.events.withLock { $0 }
        #expect(events.count == 1)
        #expect(events.first?.0 == "hello")
        #expect(events.first?.1["request"] == "r1")
        #expect(events.first?.1["node"] == "override")
    }
}
