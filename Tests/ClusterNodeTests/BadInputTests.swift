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

    /// The attack left no trace: the healthy pair never lost its link, the attacker never became
    /// a member, and remote calls between the pair still work.
    func expectOnlyTheBadLinkClosed(
        _ cluster: LocalCluster, recorder: MembershipRecorder, attacker: NodeID? = nil
    ) async throws {
        let n2 = cluster.nodes[1].id
        #expect(!recorder.events.contains { if case .down(n2, _) = $0 { true } else { false } })
        if let attacker {
            #expect(!recorder.events.contains(.up(attacker)))
            #expect(!cluster.nodes[0].members.contains(attacker))
        }
        try await expectStillHealthy(cluster)
    }

    /// Sends a hello as `identity` and returns it with the node's challenge.
    func openHandshake(_ peer: RawPeer, as identity: NodeID) async throws -> (HelloMessage, ChallengeReplyMessage)? {
        let hello = HelloMessage(node: identity, nonce: Handshake.randomNonce(), labels: [:])
        try await peer.send(.hello(hello))
        guard case .challengeReply(let challenge) = try await peer.next() else { return nil }
        return (hello, challenge)
    }

    /// The initiator's proof for `hello` answered by `challenge`, made with `secret`.
    func proof(for hello: HelloMessage, _ challenge: ChallengeReplyMessage, secret: String) -> [UInt8] {
        Handshake.proof(
            secret: ClusterSecret(secret), role: .initiator, initiator: hello.node, initiatorNonce: hello.nonce,
            acceptor: challenge.node, acceptorNonce: challenge.nonce)
    }

    static let attacker = NodeID(name: "attacker", host: "127.0.0.1", port: 9, incarnation: 7)

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

    // MARK: Every rejection path over a real socket

    @Test func truncatedFramesBeforeTheHandshake() async throws {
        // Long enough that a close within 2 s is the decoder's doing, not the timeout's.
        let cluster = try await LocalCluster.start(nodes: 2) { _, settings in settings.handshakeTimeout = .seconds(4) }
        for node in cluster.nodes { registerDemoKinds(on: node.system) }
        defer { Task { await cluster.shutdown() } }
        let recorder = MembershipRecorder(cluster.nodes[0])
        let address = cluster.nodes[0].id.address
        var hello = ByteBuffer()
        FrameCodec.write(.hello(HelloMessage(node: Self.attacker, nonce: Handshake.randomNonce(), labels: [:])), into: &hello)
        let full = Array(hello.readableBytesView)

        // Half a frame, then silence: the node does not wait past its handshake timeout.
        let stalled = try await RawPeer.connect(to: address)
        try await stalled.send(bytes: Array(full.prefix(full.count / 2)))
        #expect(await stalled.closedByNode(within: .seconds(20)))

        // A complete frame whose body is cut short (its length prefix agrees): malformed at once.
        var cut = Array(full.prefix(full.count - 10))
        cut.replaceSubrange(0..<4, with: withUnsafeBytes(of: UInt32(cut.count - 4).bigEndian, Array.init))
        let malformed = try await RawPeer.connect(to: address)
        try await malformed.send(bytes: cut)
        #expect(await malformed.closedByNode(within: .seconds(2)))

        // Half a frame, then the attacker hangs up.
        let hangUp = try await RawPeer.connect(to: address)
        try await hangUp.send(bytes: Array(full.prefix(7)))
        await hangUp.close()
        try await expectOnlyTheBadLinkClosed(cluster, recorder: recorder, attacker: Self.attacker)
    }

    @Test func truncatedFramesFromAnAuthenticatedPeer() async throws {
        let cluster = try await healthyPair()
        defer { Task { await cluster.shutdown() } }
        let recorder = MembershipRecorder(cluster.nodes[0])
        let address = cluster.nodes[0].id.address
        let call = CallMessage(
            callID: 1, targetIncarnation: cluster.nodes[0].id.incarnation, target: .serial(5000), method: "m",
            genericSubstitutions: [], arguments: [ByteBuffer(bytes: [1, 2, 3, 4, 5, 6, 7, 8])])
        var frame = ByteBuffer()
        FrameCodec.write(.call(call), into: &frame)
        let full = Array(frame.readableBytesView)

        let malformedNode = NodeID(name: "cut-call", host: "127.0.0.1", port: 10, incarnation: 1)
        let malformed = try await RawPeer.connect(to: address)
        _ = try await malformed.authenticate(as: malformedNode, secret: cluster.secret)
        var cut = Array(full.prefix(full.count - 4))
        cut.replaceSubrange(0..<4, with: withUnsafeBytes(of: UInt32(cut.count - 4).bigEndian, Array.init))
        try await malformed.send(bytes: cut)
        #expect(await malformed.closedByNode())
        try await recorder.waitFor("cut-call down") { $0 == .down(malformedNode, .connectionLost) }

        let hangUpNode = NodeID(name: "half-frame", host: "127.0.0.1", port: 11, incarnation: 1)
        let hangUp = try await RawPeer.connect(to: address)
        _ = try await hangUp.authenticate(as: hangUpNode, secret: cluster.secret)
        try await hangUp.send(bytes: Array(full.prefix(full.count / 2)))
        await hangUp.close()
        try await recorder.waitFor("half-frame down") { $0 == .down(hangUpNode, .connectionLost) }
        try await expectOnlyTheBadLinkClosed(cluster, recorder: recorder)
    }

    @Test func unknownOrOutOfPlaceFrameKindsBeforeTheHandshake() async throws {
        let cluster = try await healthyPair()
        defer { Task { await cluster.shutdown() } }
        let recorder = MembershipRecorder(cluster.nodes[0])
        let address = cluster.nodes[0].id.address
        var unknown = ByteBuffer()
        FrameCodec.writeFrame(.heartbeat, into: &unknown)
        unknown.setInteger(UInt8(99), at: 4)
        var call = ByteBuffer()
        FrameCodec.write(.call(CallMessage(
            callID: 1, targetIncarnation: 0, target: .name(NodeAgent.wellKnownName), method: "m",
            genericSubstitutions: [], arguments: [])), into: &call)
        for bytes in [unknown, call].map({ Array($0.readableBytesView) }) {
            let peer = try await RawPeer.connect(to: address)
            try await peer.send(bytes: bytes)
            #expect(await peer.closedByNode(within: .seconds(2)))  // at once, not at the handshake timeout
        }
        try await expectOnlyTheBadLinkClosed(cluster, recorder: recorder)
    }

    @Test func replayedHandshakeMessagesAreRefused() async throws {
        let cluster = try await healthyPair()
        defer { Task { await cluster.shutdown() } }
        let recorder = MembershipRecorder(cluster.nodes[0])
        let address = cluster.nodes[0].id.address

        // An eavesdropper records a hello and its proof; the session itself is cut before the verdict.
        let recorded = try await RawPeer.connect(to: address)
        let (hello, challenge) = try #require(try await openHandshake(recorded, as: Self.attacker))
        let recordedProof = proof(for: hello, challenge, secret: cluster.secret)
        await recorded.close()

        // Replayed on a new connection: the node's fresh nonce makes the old proof worthless.
        let replay = try await RawPeer.connect(to: address)
        try await replay.send(.hello(hello))
        guard case .challengeReply = try await replay.next() else { Issue.record("no challenge"); return }
        try await replay.send(.proof(recordedProof))
        #expect(await replay.closedByNode(within: .seconds(2)))

        // A hello replayed inside one handshake is out of place.
        let twice = try await RawPeer.connect(to: address)
        _ = try #require(try await openHandshake(twice, as: Self.attacker))
        try await twice.send(.hello(hello))
        #expect(await twice.closedByNode(within: .seconds(2)))
        try await expectOnlyTheBadLinkClosed(cluster, recorder: recorder, attacker: Self.attacker)
    }

    @Test func aForgedProofOrOneMadeWithAWrongSecretIsRefused() async throws {
        let cluster = try await healthyPair()
        defer { Task { await cluster.shutdown() } }
        let recorder = MembershipRecorder(cluster.nodes[0])
        let address = cluster.nodes[0].id.address
        let forgeries: [(HelloMessage, ChallengeReplyMessage) -> [UInt8]] = [
            { _, _ in (0..<32).map { _ in UInt8.random(in: 0 ... .max) } },
            { _, _ in [] },
            { hello, challenge in self.proof(for: hello, challenge, secret: "not-the-secret") },
            // The node's own proof reflected back (the role byte tells them apart).
            { _, challenge in challenge.proof },
        ]
        for forge in forgeries {
            let peer = try await RawPeer.connect(to: address)
            let (hello, challenge) = try #require(try await openHandshake(peer, as: Self.attacker))
            try await peer.send(.proof(forge(hello, challenge)))
            #expect(await peer.closedByNode(within: .seconds(2)))
        }
        try await expectOnlyTheBadLinkClosed(cluster, recorder: recorder, attacker: Self.attacker)
    }
}
