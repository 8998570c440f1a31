import ClusterNode
import Foundation
import DemoActors
import ProcessHubTesting
import Testing

@testable import ClusterNode

@Suite("Mesh and membership over real TCP", .timeLimit(.minutes(3)))
struct MeshTests {
    @Test func threeNodesFormAFullMeshFromASingleSeed() async throws {
        let cluster = try await LocalCluster.start(nodes: 3)
        defer { Task { await cluster.shutdown() } }
        for node in cluster.nodes {
            #expect(node.members.count == 2)
            #expect(!node.members.contains(node.id))
        }
        // One link per pair: n2 and n3 were introduced through n1 and connected to each other.
        #expect(Set(cluster.nodes[1].members) == [cluster.nodes[0].id, cluster.nodes[2].id])
    }

    @Test func simultaneousConnectsLeaveExactlyOneLink() async throws {
        // Two nodes that are each other's seed dial each other at the same moment.
        let ports = try freeLoopbackPorts(2)
        var settings = (0..<2).map { i in
            ClusterNodeSettings(name: "s\(i)", port: ports[i], secret: "tie", seeds: [NodeAddress(host: "127.0.0.1", port: ports[1 - i])])
        }
        settings[0].reconnectInterval = .milliseconds(50)
        settings[1].reconnectInterval = .milliseconds(50)
        let (settingsA, settingsB) = (settings[0], settings[1])
        async let first = ClusterNode.start(settingsA)
        async let second = ClusterNode.start(settingsB)
        let (a, b) = try await (first, second)
        let recorderA = MembershipRecorder(a)
        let recorderB = MembershipRecorder(b)
        try await waitUntil { a.members == [b.id] && b.members == [a.id] }
        try await waitUntil { !recorderA.events.isEmpty && !recorderB.events.isEmpty }
        try await Task.sleep(for: .milliseconds(500))  // many more dial ticks
        #expect(recorderA.events == [.up(b.id)])
        #expect(recorderB.events == [.up(a.id)])
        #expect(try a.system.link(to: b.id).initiator == b.system.link(to: a.id).initiator)
        await a.shutdown()
        await b.shutdown()
    }

    @Test func aGracefulShutdownIsSeenAsLeavingAtOnce() async throws {
        // A 60 s heartbeat timeout: only the leave message can explain a quick down event.
        let cluster = try await LocalCluster.start(nodes: 3) { _, settings in
            settings.heartbeatTimeout = .seconds(60)
        }
        let recorder = MembershipRecorder(cluster.nodes[0])
        let leaving = cluster.nodes[2]
        await leaving.shutdown()
        try await recorder.waitFor(timeout: .seconds(20), "n3 left") { $0 == .down(leaving.id, .left) }
        #expect(cluster.nodes[0].members == [cluster.nodes[1].id])
        await cluster.nodes[0].shutdown()
        await cluster.nodes[1].shutdown()
    }

    @Test func aClosedConnectionIsDownAtOnceAndTheLinkComesBack() async throws {
        let cluster = try await LocalCluster.start(nodes: 2) { _, settings in
            settings.heartbeatTimeout = .seconds(60)
            settings.reconnectInterval = .milliseconds(200)
        }
        defer { Task { await cluster.shutdown() } }
        let (n1, n2) = (cluster.nodes[0], cluster.nodes[1])
        let recorder = MembershipRecorder(n1)
        // Drop the TCP connection without a leave message, as a crash would.
        let link = try n2.system.link(to: n1.id)
        try await link.channel.close()
        try await recorder.waitFor(timeout: .seconds(20), "n2 down") { $0 == .down(n2.id, .connectionLost) }
        // n2 is not dead: the reconnect loop brings the same incarnation back up.
        try await cluster.waitForFullMesh(timeout: .seconds(20))
        try await waitUntil(timeout: .seconds(20), "n2 up again") { recorder.events.filter { $0 == .up(n2.id) }.count == 2 }
    }

    @Test func aSilentPeerIsDownAfterTheHeartbeatTimeout() async throws {
        let node = try await ClusterNode.start(.init(name: "n1", secret: "s"))
        defer { Task { await node.shutdown() } }
        let recorder = MembershipRecorder(node)
        let fake = NodeID(name: "silent", host: "127.0.0.1", port: 1, incarnation: 5)
        let peer = try await RawPeer.connect(to: node.id.address)
        #expect(try await peer.authenticate(as: fake, secret: "s") == .established(peer: node.id, labels: [:]))
        try await recorder.waitFor("the fake peer up") { $0 == .up(fake) }
        // The peer now says nothing at all (like a stopped process): no heartbeats.
        let down = try await recorder.waitFor(timeout: .seconds(20), "silent peer down") {
            $0 == .down(fake, .heartbeatTimeout)
        }
        #expect(down > .now - .seconds(20))
        #expect(await peer.closedByNode())
    }

    @Test func aNodeWithAnotherSecretCannotJoin() async throws {
        let cluster = try await LocalCluster.start(nodes: 2)
        defer { Task { await cluster.shutdown() } }
        let recorder = MembershipRecorder(cluster.nodes[0])
        let intruder = try await ClusterNode.start(
            .init(name: "intruder", secret: "not-the-secret", seeds: [cluster.nodes[0].id.address]))
        defer { Task { await intruder.shutdown() } }
        try await Task.sleep(for: .seconds(2))  // several reconnect attempts
        #expect(intruder.members.isEmpty)
        #expect(!recorder.events.contains { $0.node == intruder.id })
        #expect(Set(cluster.nodes[0].members) == [cluster.nodes[1].id])
    }

    @Test func invalidSettingsAreATypedError() async throws {
        await #expect(throws: ClusterError.self) { try await ClusterNode.start(.init(name: "x", secret: "")) }
        var settings = ClusterNodeSettings(name: "x", secret: "s")
        settings.heartbeatTimeout = .milliseconds(10)
        await #expect(throws: ClusterError.self) { try await ClusterNode.start(settings) }
    }
}


