import ClusterNode
import DemoActors
import Distributed
import ProcessHubTesting
import Synchronization
import Testing

@testable import ClusterNode

/// Holding and sealing an actor's inbound calls (what a hot handover is built on), over real TCP.
@Suite("Call gates", .timeLimit(.minutes(3)))
struct CallGateTests {
    func twoNodes() async throws -> (LocalCluster, Echo, Echo) {
        let cluster = try await LocalCluster.start(nodes: 2)
        for node in cluster.nodes { registerDemoKinds(on: node.system) }
        let (n1, n2) = (cluster.nodes[0], cluster.nodes[1])
        let id = try await n1.system.spawn(kind: Echo.kind, arguments: Echo.Arguments(label: "gated"), on: n2.id)
        let local = try #require(try Echo.resolve(id: id, using: n2.system))
        return (cluster, try Echo.resolve(id: id, using: n1.system), local)
    }

    @Test func heldCallsWaitUntilReleased() async throws {
        let (cluster, remote, local) = try await twoNodes()
        defer { Task { await cluster.shutdown() } }
        let system = cluster.nodes[1].system
        system.holdCalls(to: local.id)
        let answered = AnswerCount()
        let calls = (0..<5).map { n in
            Task {
                let sum = try await remote.add(n, 1)
                answered.count.add(1, ordering: .relaxed)
                return sum
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(answered.count.load(ordering: .relaxed) == 0)
        system.releaseCalls(to: local.id)
        for (n, call) in calls.enumerated() { #expect(try await call.value == n + 1) }
        #expect(try await remote.name() == "gated")
    }

    @Test func aSealedActorRefusesRemoteCallsAndItsHeldCalls() async throws {
        let (cluster, remote, local) = try await twoNodes()
        defer { Task { await cluster.shutdown() } }
        let system = cluster.nodes[1].system
        system.holdCalls(to: local.id)
        let held = Task { try await remote.name() }
        try await Task.sleep(for: .milliseconds(100))
        await system.sealCalls(to: local.id)
        await #expect(throws: ClusterError.self) { try await held.value }
        do {
            _ = try await remote.name()
            Issue.record("a sealed actor answered")
        } catch let error as ClusterError {
            #expect(error.code == .unknownActor)
        }
        // Local calls do not pass through the system.
        #expect(try await local.name() == "gated")
    }

    @Test func sealingWaitsForTheCallsInFlight() async throws {
        let cluster = try await LocalCluster.start(nodes: 2)
        defer { Task { await cluster.shutdown() } }
        let (n1, n2) = (cluster.nodes[0], cluster.nodes[1])
        let slow = Sleeper(actorSystem: n2.system)
        let remote = try Sleeper.resolve(id: slow.id, using: n1.system)
        let call = Task { try await remote.nap(milliseconds: 300) }
        try await waitUntil(timeout: .seconds(10)) { await slow.whenLocal { $0.napping } ?? false }
        let start = ContinuousClock.now
        await n2.system.sealCalls(to: slow.id)
        #expect(ContinuousClock.now - start >= .milliseconds(150))
        #expect(try await call.value == "rested")
    }
}

final class AnswerCount: Sendable {
    let count = Atomic<Int>(0)
}

/// An actor whose call takes a while.
distributed actor Sleeper {
    typealias ActorSystem = ClusterSystem
    var napping = false

    distributed func nap(milliseconds: Int) async throws -> String {
        napping = true
        try await Task.sleep(for: .milliseconds(milliseconds))
        return "rested"
    }
}
