// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "swift-process-hub",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ClusterNode", targets: ["ClusterNode"]),
        .library(name: "ProcessHub", targets: ["ProcessHub"]),
        .library(name: "ProcessHubTesting", targets: ["ProcessHubTesting"]),
        .executable(name: "processhub", targets: ["processhub"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        .target(
            name: "ClusterNode",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ProcessHub",
            dependencies: [
                "ClusterNode",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ProcessHubTesting",
            dependencies: ["ClusterNode", "ProcessHub"]
        ),
        .target(
            name: "DemoActors",
            dependencies: ["ClusterNode", "ProcessHub"]
        ),
        .executableTarget(
            name: "processhub",
            dependencies: [
                "ClusterNode",
                "ProcessHub",
                "DemoActors",
                "ProcessHubTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ClusterNodeTests",
            dependencies: [
                "ClusterNode",
                "DemoActors",
                "ProcessHubTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ProcessHubTests",
            dependencies: [
                "ClusterNode",
                "ProcessHub",
                "DemoActors",
                "ProcessHubTesting",
            ]
        ),
        // Examples: small runnable programs (`swift run HelloHub`), built with the package and
        // run by ExamplesTests.
        .executableTarget(name: "HelloHub", dependencies: ["ClusterNode", "ProcessHub"], path: "Examples/HelloHub"),
        .executableTarget(
            name: "ThreeNodeCluster", dependencies: ["ClusterNode", "ProcessHub"], path: "Examples/ThreeNodeCluster"),
        .executableTarget(
            name: "StatefulHandover", dependencies: ["ClusterNode", "ProcessHub"], path: "Examples/StatefulHandover"),
    ],
    swiftLanguageModes: [.v6]
)

// `swift package generate-documentation --target ProcessHub` (DocC). A command plugin: it is
// resolved with the package but built only when documentation is generated.
package.dependencies.append(.package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"))
