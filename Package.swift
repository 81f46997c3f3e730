// swift-tools-version:6.1
import PackageDescription

// Layers (see docs/ARCHITECTURE.md): a target imports only the targets below it.
//   locality (CLI)
//   LocalityActors      LocalitySim
//   LocalityRouting
//   LocalityTransport
//   LocalityMembership   LocalityPlacement   LocalityStorage
//   LocalityCore
let package = Package(
    name: "Locality",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "locality", targets: ["locality"]),
        .library(name: "LocalityCore", targets: ["LocalityCore"]),
        .library(name: "LocalityMembership", targets: ["LocalityMembership"]),
        .library(name: "LocalityPlacement", targets: ["LocalityPlacement"]),
        .library(name: "LocalitySim", targets: ["LocalitySim"]),
        .library(name: "LocalityTransport", targets: ["LocalityTransport"]),
        .library(name: "LocalityRouting", targets: ["LocalityRouting"]),
        .library(name: "LocalityHummingbird", targets: ["LocalityHummingbird"]),
        .library(name: "LocalityStorage", targets: ["LocalityStorage"]),
        .library(name: "LocalityActors", targets: ["LocalityActors"]),
        .library(name: "LocalityGateway", targets: ["LocalityGateway"]),
        .library(name: "LocalityServer", targets: ["LocalityServer"]),
        .library(name: "LocalityClient", targets: ["LocalityClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.1.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.1.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: [.defaults, "YAML"]),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.5.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
    ],
    targets: [
        .target(
            name: "LocalityCore",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "HeapModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "LocalityMembership",
            dependencies: [
                "LocalityCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Collections", package: "swift-collections"),
            ]
        ),
        .target(
            name: "LocalityPlacement",
            dependencies: ["LocalityCore"]
        ),
        .target(
            name: "LocalitySim",
            dependencies: [
                "LocalityCore",
                "LocalityMembership",
                "LocalityPlacement",
                .product(name: "Collections", package: "swift-collections"),
            ]
        ),
        .target(
            name: "LocalityTransport",
            dependencies: [
                "LocalityCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCertificateReloading", package: "swift-nio-extras"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .target(
            name: "LocalityRouting",
            dependencies: [
                "LocalityCore",
                "LocalityTransport",
                "LocalityPlacement",
                "LocalityMembership",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "LocalityHummingbird",
            dependencies: [
                "LocalityCore",
                "LocalityTransport",
                "LocalityRouting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "RateLimiterExample",
            dependencies: [
                "LocalityCore",
                "LocalityTransport",
                "LocalityRouting",
                "LocalityHummingbird",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/RateLimiter"
        ),
        // Starts and stops local `locality` child processes: demo, benchmarks, integration tests.
        .target(
            name: "LocalityLauncher",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "LocalityStorage",
            dependencies: [
                "LocalityCore",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "LocalityActors",
            dependencies: [
                "LocalityCore",
                "LocalityStorage",
                "LocalityPlacement",
                "LocalityTransport",
                "LocalityRouting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The HTTP gateway of a node: actor calls over HTTP/JSON, cluster views, metrics, dashboard.
        .target(
            name: "LocalityGateway",
            dependencies: [
                "LocalityCore",
                "LocalityMembership",
                "LocalityPlacement",
                "LocalityRouting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // A node as a library: configuration (flags > LOCALITY_* environment > file) and the
        // kinds a program hosts, assembled into one swift-service-lifecycle Service.
        .target(
            name: "LocalityServer",
            dependencies: [
                "LocalityCore",
                "LocalityMembership",
                "LocalityPlacement",
                "LocalityTransport",
                "LocalityRouting",
                "LocalityStorage",
                "LocalityActors",
                "LocalityGateway",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Realistic services built on LocalityActors, used by the tests and by `locality demo`.
        .target(
            name: "LocalityExamples",
            dependencies: ["LocalityActors", "LocalityCore", "LocalityStorage", "LocalityServer"],
            path: "Examples/PlayerStats"
        ),
        // A client of the HTTP gateways that calls each actor's owner directly.
        .target(
            name: "LocalityClient",
            dependencies: [
                "LocalityCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // `locality bench stateful`: workload, HTTP front, baselines (PostgreSQL, Redis), load generator, reports.
        .target(
            name: "LocalityBench",
            dependencies: [
                "LocalityCore",
                "LocalityClient",
                "LocalityStorage",
                "LocalityActors",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "locality",
            dependencies: [
                "LocalityLauncher",
                "LocalityCore",
                "LocalityMembership",
                "LocalityPlacement",
                "LocalitySim",
                "LocalityTransport",
                "LocalityRouting",
                "LocalityStorage",
                "LocalityActors",
                "LocalityExamples",
                "LocalityGateway",
                "LocalityBench",
                "LocalityClient",
                "LocalityServer",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "LocalityCoreTests", dependencies: ["LocalityCore"]),
        .testTarget(
            name: "LocalityMembershipTests",
            dependencies: [
                "LocalityMembership", "LocalityCore", "LocalityLauncher",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Real `locality node` processes on loopback; needs the `locality` binary (LOCALITY_BIN).
        .testTarget(
            name: "LocalityIntegrationTests",
            dependencies: ["LocalityLauncher", "LocalityServer", "LocalityMembership", "LocalityCore", "LocalityActors", "LocalityStorage", "LocalityClient",
                           .product(name: "Subprocess", package: "swift-subprocess"),
                           .product(name: "SystemPackage", package: "swift-system"),
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "LocalityPlacementTests", dependencies: ["LocalityPlacement", "LocalityCore"]),
        .testTarget(name: "LocalityTransportTests", dependencies: ["LocalityTransport", "LocalityCore", .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(name: "LocalityRoutingTests", dependencies: ["LocalityRouting", "LocalityMembership", "LocalityLauncher", "LocalityTransport", "LocalityPlacement", "LocalityCore", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(name: "LocalityHummingbirdTests", dependencies: ["LocalityHummingbird", "LocalityLauncher", "LocalityRouting", "LocalityTransport", "LocalityCore", .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio")]),
        .testTarget(name: "LocalityStorageTests", dependencies: ["LocalityStorage", "LocalityCore", .product(name: "PostgresNIO", package: "postgres-nio")]),
        .testTarget(
            name: "LocalityActorsTests",
            dependencies: [
                "LocalityActors", "LocalityExamples", "LocalityStorage", "LocalityRouting", "LocalityTransport", "LocalityCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "LocalityGatewayTests",
            dependencies: [
                "LocalityGateway", "LocalityClient", "LocalityCore", "LocalityLauncher", "LocalityRouting",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "LocalityServerTests",
            dependencies: [
                "LocalityServer", "LocalityActors", "LocalityCore", "LocalityMembership", "LocalityLauncher", "LocalityGateway", "LocalityClient",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "LocalityBenchTests", dependencies: ["LocalityBench", "LocalityCore", .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(name: "LocalitySimTests", dependencies: ["LocalitySim", "LocalityMembership", "LocalityPlacement", "LocalityCore"]),
    ],
    swiftLanguageModes: [.v6]
)
