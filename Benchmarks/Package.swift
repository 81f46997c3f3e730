// swift-tools-version:6.1
import PackageDescription

// ordo-one/benchmark suites for Locality (docs/benchmarks.md). A package of its own, so
// the main build and `swift build --build-tests` never build the benchmark tooling.
// Run from this directory: `swift package benchmark`, or `../scripts/bench-check`.
let package = Package(
    name: "LocalityBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Locality", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
    ],
    targets: [
        .executableTarget(
            name: "LocalityBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "LocalityCore", package: "Locality"),
                .product(name: "LocalityPlacement", package: "Locality"),
                .product(name: "LocalityTransport", package: "Locality"),
                .product(name: "LocalityActors", package: "Locality"),
                .product(name: "LocalityStorage", package: "Locality"),
                .product(name: "LocalityGateway", package: "Locality"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/LocalityBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
