// swift-tools-version:6.1
import PackageDescription

// An example service on Locality, in its own package: shopping carts that reserve stock
// from inventory items, hosted by a cluster of nodes on one PostgreSQL.
let package = Package(
    name: "ShoppingCart",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Locality", path: "../.."),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
    ],
    targets: [
        .executableTarget(
            name: "ShoppingCart",
            dependencies: [
                .product(name: "LocalityServer", package: "Locality"),
                .product(name: "LocalityActors", package: "Locality"),
                .product(name: "LocalityCore", package: "Locality"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
