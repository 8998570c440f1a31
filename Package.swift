// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "swift-process-hub",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ClusterNode", targets: ["ClusterNode"]),
        .library(name: "ProcessHub", targets: ["ProcessHub"]),
        .library(name: "ProcessHubTesting", targets: ["ProcessHubTesting"]),
        .library(name: "ProcessHubLifecycle", targets: ["ProcessHubLifecycle"]),
        .executable(name: "processhub", targets: ["processhub"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
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
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "ProcessHub",
            dependencies: [
                "ClusterNode",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // The service-lifecycle integration lives apart so the hub library does not pull
        // swift-service-lifecycle (and swift-async-algorithms) into every application.
        .target(
            name: "ProcessHubLifecycle",
            dependencies: [
                "ClusterNode",
                "ProcessHub",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
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
                "ProcessHubLifecycle",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
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
        // The seeded simulator of the hub's state machine (ProcessHubTesting's SimulatedCluster):
        // its own unit tests and the seed sweep.
        .testTarget(
            name: "SimulatorTests",
            dependencies: ["ClusterNode", "ProcessHub", "ProcessHubTesting"]
        ),
        // Examples: small runnable programs (`swift run HelloHub`), built with the package and
        // run by ExamplesTests.
        .executableTarget(name: "HelloHub", dependencies: ["ClusterNode", "ProcessHub"], path: "Examples/HelloHub"),
        .executableTarget(
            name: "ThreeNodeCluster", dependencies: ["ClusterNode", "ProcessHub"], path: "Examples/ThreeNodeCluster"),
        .executableTarget(
            name: "StatefulHandover", dependencies: ["ClusterNode", "ProcessHub"], path: "Examples/StatefulHandover"),
        // Operating a cluster: CLI, service lifecycle, metrics, tracing. Its own test process:
        // swift-metrics and swift-distributed-tracing are bootstrapped once
        // per process, with in-memory backends that must not slow the other suites down.
        .testTarget(
            name: "OperationsTests",
            dependencies: [
                "ClusterNode",
                "ProcessHub",
                "ProcessHubLifecycle",
                "DemoActors",
                "ProcessHubTesting",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// `swift package generate-documentation --target ProcessHub` (DocC). A command plugin: it is
// resolved with the package but built only when documentation is generated.
package.dependencies.append(.package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"))
