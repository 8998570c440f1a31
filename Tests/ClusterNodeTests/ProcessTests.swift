import ClusterNode
import Foundation
import ProcessHubTesting
import Testing

@Suite("Real node processes", .serialized, .timeLimit(.minutes(3)))
struct ProcessTests {
    /// SIGKILL and SIGSTOP of real node processes are both detected by the other nodes.
    @Test func killedAndStoppedNodeProcessesAreDetectedAsDown() async throws {
        defer { NodeProcess.endAll() }
        let secret = "proc-\(UInt64.random(in: 0 ... .max))"
        let observer = try await ClusterNode.start(.init(name: "observer", secret: ClusterSecret(secret)))
        defer { Task { await observer.shutdown() } }
        let recorder = MembershipRecorder(observer)
        let seed = "\(observer.id.address)"
        let killed = try NodeProcess.launch(["node", "--name", "killed", "--secret", secret, "--seed", seed])
        let stopped = try NodeProcess.launch(["node", "--name", "stopped", "--secret", secret, "--seed", seed])
        let witness = try NodeProcess.launch(["node", "--name", "witness", "--secret", secret, "--seed", seed])
        let killedID = try #require(NodeID(try await killed.waitUntilReady()))
        let stoppedID = try #require(NodeID(try await stopped.waitUntilReady()))
        let witnessID = try #require(NodeID(try await witness.waitUntilReady()))
        try await waitUntil(timeout: .seconds(30), "all three processes up on the observer") {
            Set(observer.members) == [killedID, stoppedID, witnessID]
        }
        // The witness process is connected to the others as well (full mesh across processes).
        _ = try await witness.waitForLine("up killed") { $0.hasPrefix("up \(killedID)") }
        _ = try await witness.waitForLine("up stopped") { $0.hasPrefix("up \(stoppedID)") }

        killed.kill()
        try await recorder.waitFor(timeout: .seconds(30), "killed down") { $0 == .down(killedID, .connectionLost) }
        _ = try await witness.waitForLine("witness sees killed down") { $0 == "down \(killedID) (connectionLost)" }

        let stoppedAt = ContinuousClock.now
        stopped.send(SIGSTOP)
        let detected = try await recorder.waitFor(timeout: .seconds(30), "stopped down") {
            $0 == .down(stoppedID, .heartbeatTimeout)
        }
        _ = try await witness.waitForLine("witness sees stopped down") { $0 == "down \(stoppedID) (heartbeatTimeout)" }
        print("SIGSTOP detected after \(detected - stoppedAt)")
        stopped.send(SIGCONT)

        // A graceful SIGTERM exits 0 and is seen as leaving.
        #expect(await witness.terminate() == 0)
        try await recorder.waitFor(timeout: .seconds(30), "witness left") { $0 == .down(witnessID, .left) }
        stopped.kill()
    }
}
