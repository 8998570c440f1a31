import ClusterNode
import Foundation
import ProcessHubTesting
import Testing

/// `processhub status`, `start-children` and `stop-children` against real `processhub node`
/// processes, each command an OS process of its own.
@Suite("Command line against a live cluster", .serialized, .timeLimit(.minutes(4)))
struct CLITests {
    // The JSON documents, as a script reads them.
    struct Status: Decodable {
        struct Node: Decodable {
            var node: String
            var state: String
            var members: [String]?
            var registryCount: Int?
            var localCount: Int?
        }

        struct Location: Decodable {
            var node: String
            var actor: String
        }

        struct Child: Decodable {
            var id: String
            var kind: String
            var locations: [Location]
            var metadata: [String: String]
        }

        var hub: String
        var registryCount: Int
        var isLocked: Bool
        var isPartitioned: Bool
        var nodes: [Node]
        var childrenPerNode: [String: Int]
        var children: [Child]
    }

    struct Operation: Decodable {
        struct Done: Decodable {
            var id: String
            var nodes: [String]
        }

        struct Failure: Decodable {
            var id: String
            var code: String
        }

        var status: String
        var done: [Done]
        var errors: [Failure]
    }

    /// Two nodes, one from flags and one from a configuration file (with a flag overriding its
    /// name); the commands start, show and stop children, and the cluster agrees.
    @Test func statusStartAndStopDriveALiveCluster() async throws {
        defer { NodeProcess.endAll(); CommandRun.endAll() }
        let secret = "cli-\(UInt64.random(in: 0 ... .max))"
        let port = try freeLoopbackPorts(1)[0]
        let configPath = NSTemporaryDirectory() + "processhub-cli-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: configPath) }
        let config = """
            {"name": "from-file", "secret": "\(secret)", "seeds": ["127.0.0.1:\(port)"],
             "hubs": [{"id": "ops", "migration": "hot", "handover": true}], "logLevel": "warning"}
            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        let first = try NodeProcess.launch(["node", "--name", "n1", "--port", "\(port)", "--secret", secret, "--hub", "ops"])
        let second = try NodeProcess.launch(["node", "--config", configPath, "--name", "n2"])
        let firstID = try #require(NodeID(try await first.waitUntilReady()))
        let secondID = try #require(NodeID(try await second.waitUntilReady()))
        #expect(secondID.name == "n2", "a flag overrides the file")
        let common = ["127.0.0.1:\(port)", "--secret", secret, "--hub", "ops", "--json"]

        // Both nodes in the hub, nothing started yet.
        // Each hub applies the other's join in its own topology batch: wait until both have.
        var status = try await waitForStatus(common) { status in
            status.nodes.count == 2 && !status.isLocked && status.nodes.allSatisfy { $0.members?.count == 2 }
        }
        #expect(Set(status.nodes.map(\.node)) == ["\(firstID)", "\(secondID)"])
        #expect(status.nodes.allSatisfy { $0.state == "up" && $0.members?.count == 2 })
        #expect(status.registryCount == 0 && status.children.isEmpty && !status.isPartitioned)

        // Start 30 counters, awaited.
        let started = try await CommandRun.processhub(
            ["start-children"] + common + ["--kind", "counter", "--count", "30", "--prefix", "k", "--metadata", "tag=cli", "--wait"])
        #expect(started.status == 0, "\(started.stderr)")
        let start = try started.json(Operation.self)
        #expect(start.status == "ok" && start.done.count == 30 && start.errors.isEmpty)
        #expect(Set(start.done.flatMap(\.nodes)) == ["\(firstID)", "\(secondID)"])

        // Both nodes' registries list them, with their metadata; the per-node counts add up.
        status = try await waitForStatus(common) { $0.nodes.allSatisfy { $0.registryCount == 30 } }
        #expect(status.registryCount == 30 && status.children.count == 30)
        #expect(status.children.allSatisfy { $0.kind == "counter" && $0.metadata == ["tag": "cli"] && $0.locations.count == 1 })
        #expect(status.childrenPerNode.values.reduce(0, +) == 30)
        #expect(status.nodes.map { $0.localCount ?? 0 }.reduce(0, +) == 30)
        for node in status.nodes { #expect(status.childrenPerNode[node.node] == node.localCount) }

        // The same id again: refused as a whole, nothing changes.
        let again = try await CommandRun.processhub(["start-children"] + common + ["--ids", "k0", "--wait"])
        #expect(again.status == 1 && again.stderr.contains("alreadyStarted"), "\(again.stderr)")

        // Stop two and one unknown id.
        let stopped = try await CommandRun.processhub(["stop-children"] + common + ["--ids", "k1,k2,missing", "--wait"])
        #expect(stopped.status == 1)
        let stop = try stopped.json(Operation.self)
        #expect(Set(stop.done.map(\.id)) == ["k1", "k2"])
        #expect(stop.errors.map(\.id) == ["missing"] && stop.errors.first?.code == "notFound")
        status = try await waitForStatus(common) { $0.nodes.allSatisfy { $0.registryCount == 28 } }
        #expect(!status.children.contains { ["k1", "k2"].contains($0.id) })

        // The clients left: the hub still has exactly its two members.
        #expect(status.nodes.count == 2 && status.nodes.allSatisfy { $0.members?.count == 2 })
        #expect(await first.terminate() == 0)
        #expect(await second.terminate() == 0)
    }

    /// Bad input gets a clear error and changes nothing: a wrong secret, an unknown hub, an
    /// unknown configuration key, an invalid address.
    @Test func badInputIsRefusedClearly() async throws {
        defer { NodeProcess.endAll(); CommandRun.endAll() }
        let secret = "clibad-\(UInt64.random(in: 0 ... .max))"
        let node = try NodeProcess.launch(["node", "--name", "n1", "--secret", secret, "--hub", "ops"])
        let id = try #require(NodeID(try await node.waitUntilReady()))
        let address = "\(id.address)"

        let wrongSecret = try await CommandRun.processhub(["status", address, "--secret", "nope", "--hub", "ops", "--timeout", "3"])
        #expect(wrongSecret.status == 1 && wrongSecret.stderr.contains("error: timeout"), "\(wrongSecret.stderr)")
        let unknownHub = try await CommandRun.processhub(["status", address, "--secret", secret, "--hub", "other"])
        #expect(unknownHub.status == 1 && unknownHub.stderr.contains("error: notFound"), "\(unknownHub.stderr)")
        let badAddress = try await CommandRun.processhub(["status", "nowhere", "--secret", secret, "--hub", "ops"])
        #expect(badAddress.status != 0 && badAddress.stderr.contains("invalid address"))
        let noSelection = try await CommandRun.processhub(["stop-children", address, "--secret", secret, "--hub", "ops"])
        #expect(noSelection.status != 0 && noSelection.stderr.contains("--ids or --count"))

        let configPath = NSTemporaryDirectory() + "processhub-bad-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: configPath) }
        try #"{"name": "x", "secret": "s", "hubz": []}"#.write(toFile: configPath, atomically: true, encoding: .utf8)
        let badConfig = try await CommandRun.processhub(["node", "--config", configPath])
        #expect(badConfig.status != 0 && badConfig.stderr.contains("unknown key \"hubz\""), "\(badConfig.stderr)")

        let status = try await CommandRun.processhub(["status", address, "--secret", secret, "--hub", "ops", "--json"])
        #expect(status.status == 0)
        #expect(try status.json(Status.self).registryCount == 0)
        #expect(await node.terminate() == 0)
    }

    /// Runs `status` until its document satisfies `condition`.
    private func waitForStatus(
        _ common: [String], timeout: Duration = .seconds(60), _ condition: (Status) -> Bool
    ) async throws -> Status {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while ContinuousClock.now < deadline {
            let run = try await CommandRun.processhub(["status"] + common)
            if run.status == 0, let status = try? run.json(Status.self), condition(status) { return status }
            last = run.stdout + run.stderr
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("status never satisfied the condition; last output:\n\(last)")
        throw CancellationError()
    }
}
