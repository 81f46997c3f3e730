// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for Locality's decoders (docs/fuzzing.md). A package of its own, so the
// main package's build and tests are unaffected; build and run with `scripts/fuzz`, which
// passes `-sanitize=fuzzer` (each target exports `LLVMFuzzerTestOneInput`, libFuzzer
// supplies `main`).
let package = Package(
    name: "LocalityFuzz",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fuzz-frame", targets: ["FrameFuzzer"]),
        .executable(name: "fuzz-gossip", targets: ["GossipFuzzer"]),
        .executable(name: "fuzz-handshake", targets: ["HandshakeFuzzer"]),
        .executable(name: "fuzz-json", targets: ["JSONFuzzer"]),
        .executable(name: "fuzz-state", targets: ["StateFuzzer"]),
    ],
    dependencies: [
        .package(name: "Locality", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
    ],
    targets: [
        // libFuzzer's driver, declared for Swift.
        .target(name: "CFuzzer"),
        // Reading fuzzer bytes as choices, stopping on a broken invariant, running the driver.
        .target(name: "FuzzSupport", dependencies: ["CFuzzer"]),
        .executableTarget(
            name: "FrameFuzzer",
            dependencies: [
                "FuzzSupport",
                .product(name: "LocalityTransport", package: "Locality"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "GossipFuzzer",
            dependencies: [
                "FuzzSupport",
                .product(name: "LocalityMembership", package: "Locality"),
                .product(name: "LocalityCore", package: "Locality"),
            ]
        ),
        .executableTarget(
            name: "HandshakeFuzzer",
            dependencies: [
                "FuzzSupport",
                .product(name: "LocalityTransport", package: "Locality"),
                .product(name: "LocalityCore", package: "Locality"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "JSONFuzzer",
            dependencies: [
                "FuzzSupport",
                .product(name: "LocalityActors", package: "Locality"),
                .product(name: "LocalityCore", package: "Locality"),
            ]
        ),
        .executableTarget(
            name: "StateFuzzer",
            dependencies: [
                "FuzzSupport",
                .product(name: "LocalityActors", package: "Locality"),
                .product(name: "LocalityCore", package: "Locality"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
