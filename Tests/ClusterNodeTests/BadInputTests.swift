import ClusterNode
import DemoActors
import NIOCore
import ProcessHubTesting
import Testing

@testable import ClusterNode

@Suite("Bad input closes only the bad link", .timeLimit(.minutes(3)))
struct BadInputTests {
    /// Two healthy nodes, and a check that they still work after each attack.
    func healthyPair() async throws -> LocalCluster {
        let cluster = try await LocalCluster.start(nodes: 2)
        for node in cluster.nodes { registerDemoKinds(on: node.system) }
        return cluster
    }

    func expectStillHealthy(_ cluster: LocalCluster) async throws {
        let (n1, n2) = (cluster.nodes[0], cluster.nodes[1])
        #expect(n1.members.contains(n2.id))
        let id = try await n1.system.spawn(kind: Echo.kind, arguments: Echo.Arguments(label: "ok"), on: n2.id)
        #expect(try await Echo.resolve(id: id, using: n1.system).add(2, 3) == 5)
    }

    @Test func garbageBeforeTheHandshake() async throws {
        let cluster = try await healthyPair()
        defer { Task { await cluster.shutdown() } }
        let peer = try await RawPeer.connect(to: cluster.nodes[0].id.address)
        try await peer.send(bytes: Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(await peer.closedByNode())
        try await expectStillHealthy(cluster)
    }

    @Test func anOversizedFrameBeforeTheHandshake() async throws {
        let cluster = try await healthyPair()
        defer { Task { await cluster.shutdown() } }
        let peer = try await RawPeer.connect(to: cluster.nodes[0].id.address)
        var header = ByteBuffer()
        header.writeInteger(UInt32(100_000_000))
        header.writeInteger(FrameKind.hello.rawValue)
        try await peer.send(bytes: Array(header.readableBytesView))
        #expect(await peer.closedByNode())
        try await expectStillHealthy(cluster)
    }

    @Test func aConnectionThatNeverHandshakesIsClosed() async throws {
        var settings = ClusterNodeSettings(name: "n1", secret: "s")
        settings.handshakeTimeout = .milliseconds(300)
        let node = try await ClusterNode.start(settings)
        defer { Task { await node.shutdown() } }
        let peer = try await RawPeer.connect(to: node.id.address)
        #expect(await peer.closedByNode(within: .seconds(10)))
    }

    @Test func anOversizedFrameFromAnAuthenticatedPeer() async throws {
        let cluster = try await LocalCluster.start(nodes: 2) { _, settings in settings.maxFrameSize = 4096 }
        for node in cluster.nodes { registerDemoKinds(on: node.system) }
        defer { Task { await cluster.shutdown() } }
        let recorder = MembershipRecorder(cluster.nodes[0])
        let fake = NodeID(name: "fake", host: "127.0.0.1", port: 2, incarnation: 1)
        let peer = try await RawPeer.connect(to: cluster.nodes[0].id.address)
        _ = try await peer.authenticate(as: fake, secret: cluster.secret)
        var frame = ByteBuffer()
        FrameCodec.writeFrame(.members, into: &frame) { $0.writeBytes([UInt8](repeating: 0, count: 10_000)) }
        try await peer.send(bytes: Array(frame.readableBytesView))
        #expect(await peer.closedByNode())
        try await recorder.waitFor("fake down") { $0 == .down(fake, .connectionLost) }
        try await expectStillHealthy(cluster)
    }

    @Test func unknownFrameKindsAndReplayedHandshakesAfterAuthentication() async throws {
        let cluster = try await healthyPair()
        defer { Task { await cluster.shutdown() } }
        let address = cluster.nodes[0].id.address
        let fake = NodeID(name: "fake", host: "127.0.0.1", port: 3, incarnation: 1)

        let unknownKind = try await RawPeer.connect(to: address)
        _ = try await unknownKind.authenticate(as: fake, secret: cluster.secret)
        var frame = ByteBuffer()
        FrameCodec.writeFrame(.heartbeat, into: &frame)
        frame.setInteger(UInt8(99), at: 4)
        try await unknownKind.send(bytes: Array(frame.readableBytesView))
        #expect(await unknownKind.closedByNode())

        let replay = try await RawPeer.connect(to: address)
        _ = try await replay.authenticate(as: fake, secret: cluster.secret)
        try await replay.send(.hello(HelloMessage(node: fake, nonce: Handshake.randomNonce(), labels: [:])))
        #expect(await replay.closedByNode())
        try await expectStillHealthy(cluster)
    }

    @Test func malformedCallsAreAnsweredWithTypedErrors() async throws {
        let cluster = try await healthyPair()
        defer { Task { await cluster.shutdown() } }
        let n1 = cluster.nodes[0]
        let fake = NodeID(name: "fake", host: "127.0.0.1", port: 4, incarnation: 1)
        let peer = try await RawPeer.connect(to: n1.id.address)
        #expect(try await peer.authenticate(as: fake, secret: cluster.secret) == .established(peer: n1.id, labels: [:]))
        try await waitUntil { n1.members.contains(fake) }

        func reply(to call: CallMessage) async throws -> ClusterError? {
            try await peer.send(.call(call))
            guard case .reply(let reply) = try await peer.nextSignificant() else { return nil }
            #expect(reply.callID == call.callID)
            if case .error(let error) = reply.outcome { return error }
            return nil
        }
        let agent = LocalActorRef.name(NodeAgent.wellKnownName)
        var call = CallMessage(
            callID: 1, targetIncarnation: n1.id.incarnation &+ 1, target: agent, method: "x",
            genericSubstitutions: [], arguments: [])
        #expect(try await reply(to: call)?.code == .deadIncarnation)
        call.callID = 2
        call.targetIncarnation = n1.id.incarnation
        call.target = .serial(999_999)
        #expect(try await reply(to: call)?.code == .unknownActor)
        call.callID = 3
        call.target = agent
        call.method = "no such method"
        #expect(try await reply(to: call)?.code == .unknownMethod)

        // Learn a real method identifier: let n1 call an Echo "living" on the fake node.
        let phantom = try Echo.resolve(id: ActorID(node: fake, serial: 5000), using: n1.system)
        let pending = Task { try await phantom.add(1, 2) }
        guard case .call(let observed) = try await peer.nextSignificant() else {
            Issue.record("expected a call from n1")
            return
        }
        // A reply that does not decode as the expected type is a typed error for the caller.
        try await peer.send(.reply(ReplyMessage(callID: observed.callID, outcome: .value(ByteBuffer(bytes: [0xff, 0xff])))))
        let invalidReply = await #expect(throws: ClusterError.self) { try await pending.value }
        #expect(invalidReply?.code == .invalidReply)

        // That method on a real Echo of n1, with arguments that do not decode.
        let echo = Echo(actorSystem: n1.system, label: "target")
        call.callID = 4
        call.target = .serial(echo.id.serial)
        call.method = observed.method
        call.arguments = [ByteBuffer(bytes: [0xff]), ByteBuffer(bytes: [])]
        #expect(try await reply(to: call)?.code == .invalidArguments)
        call.callID = 5
        call.arguments = []
        #expect(try await reply(to: call)?.code == .invalidArguments)
        // And the same call with valid arguments works, over the same link.
        call.callID = 6
        call.arguments = observed.arguments
        try await peer.send(.call(call))
        guard case .reply(let good) = try await peer.nextSignificant(), case .value = good.outcome else {
            Issue.record("expected a value reply")
            return
        }
        _ = echo
        try await expectStillHealthy(cluster)
    }
}
