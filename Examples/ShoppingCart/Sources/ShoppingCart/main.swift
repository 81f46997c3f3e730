import Foundation
import LocalityCore
import LocalityServer
import Logging
import ServiceLifecycle

// A shop node: reads its settings (flags, LOCALITY_* environment, --config file), hosts
// the `cart` and `inventory` kinds and serves until SIGTERM/SIGINT, then drains.

func fail(_ message: String, status: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(status)
}

let options: ShopOptions
do {
    options = try ShopOptions.parse(CommandLine.arguments)
} catch {
    fail("\(error)\n\n\(ShopOptions.usage)")
}
if options.help {
    print(ShopOptions.usage)
    exit(0)
}
let configuration: NodeConfiguration
do {
    configuration = try await NodeConfiguration.load(arguments: options.nodeArguments)
} catch {
    fail("\(error)\n\n\(ShopOptions.usage)")
}
LoggingSystem.bootstrap { [level = configuration.logLevel] label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = level
    // Metadata rendered only for messages logged, not on every per-request tag.
    return DeferredMetadataLogHandler(handler)
}
if options.exitOnStdinEOF { StdinWatch.leaveOnEOF() }
var logger = Logger(label: "shop.node")
logger[metadataKey: "node"] = "\(configuration.name)"
logger.info("shop node starting", metadata: ["hold-ttl": "\(options.settings.holdTTL)"])
let node = try await LocalityNode.start(configuration, kinds: ShopKinds.all(options.settings), logger: logger)
let group = ServiceGroup(
    configuration: .init(services: [.init(service: node)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
try await group.run()
