import NIOCore
import Testing

@testable import ClusterNode

@Suite("Handshake")
struct HandshakeTests {
    let alice = NodeID(name: "alice", host: "127.0.0.1", port: 7001, incarnation: 1)
    let bob = NodeID(name: "bob", host: "127.0.0.1", port: 7002, incarnation: 2)

    /// Runs a handshake between two state machines, frames passing through the real codec.
    func run(initiatorSecret: String, acceptorSecret: String) -> (Handshake.Action, Handshake.Action) {
        var initiator = Handshake(role: .initiator, local: alice, secret: .init(initiatorSecret), labels: [:])
        var acceptor = Handshake(role: .acceptor, local: bob, secret: .init(acceptorSecret), labels: ["zone": "a"])
        guard case .send(let hello) = initiator.start() else { Issue.record("no hello"); return (.fail(""), .fail("")) }
        let reply = acceptor.receive(roundTrip(hello.wire))
        guard case .send(let challenge) = reply else { return (.fail("-"), reply) }
        let proofAction = initiator.receive(roundTrip(challenge.wire))
        guard case .send(let proof) = proofAction else { return (proofAction, reply) }
        let verdict = acceptor.receive(roundTrip(proof.wire))
        guard case .admit = verdict else { return (proofAction, verdict) }
        return (initiator.receive(roundTrip(.accepted)), verdict)
    }

    @Test func sameSecretAuthenticatesBothWays() {
        let (initiator, acceptor) = run(initiatorSecret: "s3cret", acceptorSecret: "s3cret")
        #expect(initiator == .established(peer: bob, labels: ["zone": "a"]))
        #expect(acceptor == .admit(peer: alice, labels: [:]))
    }

    @Test func wrongSecretFailsOnTheInitiator() {
        let (initiator, _) = run(initiatorSecret: "wrong", acceptorSecret: "s3cret")
        guard case .fail(let reason) = initiator else { Issue.record("expected failure, got \(initiator)"); return }
        #expect(reason.contains("secret"))
    }

    @Test func acceptorRejectsAForgedProof() {
        var acceptor = Handshake(role: .acceptor, local: bob, secret: .init("s3cret"), labels: [:])
        _ = acceptor.receive(.hello(HelloMessage(node: alice, nonce: Handshake.randomNonce(), labels: [:])))
        let verdict = acceptor.receive(.proof([UInt8](repeating: 0, count: 32)))
        guard case .fail = verdict else { Issue.record("forged proof accepted: \(verdict)"); return }
    }

    @Test func aRecordedProofIsUselessInANewHandshake() {
        // Record a genuine initiator proof, then replay it against a fresh acceptor (new nonce).
        var initiator = Handshake(role: .initiator, local: alice, secret: .init("s3cret"), labels: [:])
        var first = Handshake(role: .acceptor, local: bob, secret: .init("s3cret"), labels: [:])
        guard case .send(.hello(let hello)) = initiator.start(),
            case .send(let challenge) = first.receive(.hello(hello)),
            case .send(.proof(let recorded)) = initiator.receive(challenge.wire)
        else { Issue.record("handshake did not proceed"); return }
        var second = Handshake(role: .acceptor, local: bob, secret: .init("s3cret"), labels: [:])
        _ = second.receive(.hello(hello))
        guard case .fail = second.receive(.proof(recorded)) else { Issue.record("replayed proof accepted"); return }
    }

    @Test func wrongVersionOrMagicIsRefused() {
        var acceptor = Handshake(role: .acceptor, local: bob, secret: .init("s"), labels: [:])
        var hello = HelloMessage(node: alice, nonce: Handshake.randomNonce(), labels: [:])
        hello.version = 99
        guard case .fail(let reason) = acceptor.receive(.hello(hello)) else { Issue.record("accepted v99"); return }
        #expect(reason.contains("version"))
        var other = Handshake(role: .acceptor, local: bob, secret: .init("s"), labels: [:])
        hello.version = protocolVersion
        hello.magic = 0xDEAD_BEEF
        guard case .fail = other.receive(.hello(hello)) else { Issue.record("accepted bad magic"); return }
    }

    @Test func framesOutOfOrderFail() {
        var acceptor = Handshake(role: .acceptor, local: bob, secret: .init("s"), labels: [:])
        guard case .fail = acceptor.receive(.heartbeat) else { Issue.record("heartbeat before hello accepted"); return }
    }

    @Test func theSecretNeverAppearsOnTheWire() {
        let secret = "a-very-recognisable-secret"
        var initiator = Handshake(role: .initiator, local: alice, secret: .init(secret), labels: [:])
        var acceptor = Handshake(role: .acceptor, local: bob, secret: .init(secret), labels: [:])
        var wire = ByteBuffer()
        guard case .send(let hello) = initiator.start() else { return }
        FrameCodec.write(hello.wire, into: &wire)
        guard case .send(let challenge) = acceptor.receive(hello.wire) else { return }
        FrameCodec.write(challenge.wire, into: &wire)
        guard case .send(let proof) = initiator.receive(challenge.wire) else { return }
        FrameCodec.write(proof.wire, into: &wire)
        let bytes = Array(wire.readableBytesView)
        #expect(!bytes.containsSubsequence(Array(secret.utf8)))
    }

    private func roundTrip(_ message: WireMessage) -> WireMessage {
        var buffer = ByteBuffer()
        FrameCodec.write(message, into: &buffer)
        let frame = try! FrameCodec.nextFrame(from: &buffer, maxFrameSize: 1 << 20)!
        return try! FrameCodec.parse(kind: frame.kind, body: frame.body) { ref in
            if case .inline(let name) = ref { return name }
            return nil
        }
    }
}

extension Array where Element: Equatable {
    func containsSubsequence(_ needle: [Element]) -> Bool {
        guard needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { Array(self[$0..<$0 + needle.count]) == needle }
    }
}
