import Foundation
import ProcessHubTesting
import Testing

/// The programs in `Examples/`, each run as a real OS process: they exit 0 and print what they
/// claim to show.
@Suite("Examples", .serialized, .timeLimit(.minutes(3)))
struct ExamplesTests {
    struct MissingExecutable: Error, CustomStringConvertible {
        var description: String
    }

    /// An example's executable: beside the test bundle's build products, where SwiftPM puts every
    /// executable of the package (as ``NodeProcess/defaultExecutable()`` finds `processhub`).
    static func executable(_ name: String) throws -> String {
        let me = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        var folder = me.deletingLastPathComponent()
        if folder.pathExtension == "xctest" { folder = folder.deletingLastPathComponent() }
        let path = folder.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw MissingExecutable(description: "no \(name) executable at \(path); run `swift build` first")
        }
        return path
    }

    /// Runs an example to its end (killing it if it is still running after `timeout`) and
    /// returns its exit status and output lines.
    static func run(_ name: String, timeout: Duration = .seconds(60)) async throws -> (status: Int32, lines: [String], log: String) {
        // NodeProcess records the pid; it also passes `--parent-pid`, which the examples ignore.
        let example = try NodeProcess.launch([], executable: try executable(name))
        defer { example.kill() }
        try? await waitUntil(timeout: timeout, "\(name) to finish") { !example.isRunning }
        let log = example.log
        let status = await example.terminate(timeout: .seconds(5))
        // Lines still in the pipe when the process ended arrive shortly after.
        try? await waitUntil(timeout: .seconds(5), "\(name)'s last line") {
            example.lines.last?.hasSuffix(" done") ?? false
        }
        return (status, example.lines, log)
    }

    @Test func helloHubStartsLooksUpCallsAndStopsChildren() async throws {
        let (status, lines, log) = try await Self.run("HelloHub")
        let output = lines.joined(separator: "\n")
        #expect(status == 0, "\(output)\n\(log)")
        #expect(output.contains("started 3 children, status ok"))
        #expect(output.contains("greeter-fr runs on [\"n1\"]"))
        #expect(output.contains("Hello, Swift! (greeter-en, call 1)"))
        #expect(output.contains("Hello, cluster! (greeter-en, call 2)"))
        #expect(output.contains("tagged greeters: [\"greeter-de\", \"greeter-en\", \"greeter-fr\"]"))
        #expect(output.contains("stopped [\"greeter-de\"]; registry now lists [\"greeter-en\", \"greeter-fr\"]"))
        #expect(lines.last == "HelloHub done")
    }

    @Test func threeNodeClusterRestartsTheChildrenOfTheNodeThatLeft() async throws {
        let (status, lines, log) = try await Self.run("ThreeNodeCluster")
        let output = lines.joined(separator: "\n")
        #expect(status == 0, "\(output)\n\(log)")
        #expect(output.contains("hub cluster formed: [\"n1\", \"n2\", \"n3\"]"))
        #expect(lines.contains { $0.hasPrefix("30 workers started; per node: n1: ") && $0.contains("n3: ") })
        #expect(lines.contains { $0.hasSuffix("answers from n3") })
        #expect(lines.contains { $0.hasPrefix("n3 left; its ") && !$0.contains("n3: ") })
        #expect(lines.contains { $0.contains("now answers from n1") || $0.contains("now answers from n2") })
        #expect(lines.last == "ThreeNodeCluster done")
    }

    @Test func statefulHandoverKeepsEveryValueThroughAJoin() async throws {
        let (status, lines, log) = try await Self.run("StatefulHandover")
        let output = lines.joined(separator: "\n")
        #expect(status == 0, "\(output)\n\(log)")
        #expect(output.contains("20 tallies counted on n1 and n2"))
        let moved = lines.first { $0.hasPrefix("n3 joined; ") }
        #expect(moved?.hasSuffix("tallies moved to n3 with their state") == true)
        #expect(lines.contains { $0.contains("-> n3, value ") })
        #expect(lines.contains { $0.hasPrefix("all 20 tallies kept their values") })
        #expect(lines.last == "StatefulHandover done")
    }
}
