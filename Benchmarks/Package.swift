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
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/LocalityBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
