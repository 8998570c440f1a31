// swift-tools-version:6.1
// libFuzzer targets for the wire decoder and the handshake. Kept out of the root package so that
// `swift build` / `swift test` there never need the fuzzer runtime. Build and run: `Fuzz/run.sh`.
import PackageDescription

let package = Package(
    name: "ProcessHubFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "swift-process-hub", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .target(
            name: "FuzzSupport",
            dependencies: [
                .product(name: "ClusterNode", package: "swift-process-hub"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "FuzzFrames", dependencies: ["FuzzSupport"]),
        .executableTarget(name: "FuzzHandshake", dependencies: ["FuzzSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
