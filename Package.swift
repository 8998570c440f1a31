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
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
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
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
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
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
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
    ],
    swiftLanguageModes: [.v6]
)
