import Crypto
import NIOCore

/// The authentication handshake of one connection, as a state machine without I/O.
///
/// ```
/// initiator                                  acceptor
///   hello(magic, version, node, nonceI)  ──▶
///                                        ◀── challengeReply(node, nonceA, proofA)
///   proof(proofI)                        ──▶
///                                        ◀── accepted | rejected(reason)
/// ```
/// `proofX = HMAC-SHA256(secret, role X ‖ version ‖ nonceI ‖ nonceA ‖ initiator ‖ acceptor)`.
/// The secret never travels; fresh nonces on both sides make a recorded proof useless later,
/// and the role byte stops a node's own proof from being reflected back to it.
struct Handshake {
    enum Role { case initiator, acceptor }

    /// What the connection must do next.
    enum Action: Equatable {
        case send(HandshakeMessage)
        /// Acceptor: the peer proved the secret; decide whether to admit it (duplicate links).
        case admit(peer: NodeID, labels: [String: String])
        /// Initiator: the acceptor admitted us; the link is up.
        case established(peer: NodeID, labels: [String: String])
        /// The acceptor refused an authenticated connection (duplicate, shutting down, …).
        case refused(RejectReason)
        /// The handshake failed; close the connection and log the reason.
        case fail(String)
    }

    /// The handshake's own frames (a subset of ``WireMessage``).
    enum HandshakeMessage: Equatable {
        case hello(HelloMessage)
        case challengeReply(ChallengeReplyMessage)
        case proof([UInt8])
    }

    private enum State {
        case idle
        case awaitingHello
        case awaitingChallengeReply
        case awaitingProof(peer: NodeID, peerNonce: [UInt8], labels: [String: String])
        case awaitingVerdict(peer: NodeID, labels: [String: String])
        case done
    }

    static let nonceSize = 32

    let role: Role
    let local: NodeID
    let labels: [String: String]
    private let secret: ClusterSecret
    private let nonce: [UInt8]
    private var state: State

    init(role: Role, local: NodeID, secret: ClusterSecret, labels: [String: String], nonce: [UInt8]? = nil) {
        self.role = role
        self.local = local
        self.secret = secret
        self.labels = labels
        self.nonce = nonce ?? Self.randomNonce()
        self.state = role == .initiator ? .idle : .awaitingHello
    }

    var isDone: Bool { if case .done = state { true } else { false } }

    /// Initiator: the first frame to send.
    mutating func start() -> Action {
        precondition(role == .initiator)
        state = .awaitingChallengeReply
        return .send(.hello(HelloMessage(node: local, nonce: nonce, labels: labels)))
    }

    mutating func receive(_ message: WireMessage) -> Action {
        switch (state, message) {
        case (.awaitingHello, .hello(let hello)):
            guard hello.magic == protocolMagic else { return failed("bad protocol magic") }
            guard hello.version == protocolVersion else {
                return failed("protocol version \(hello.version) is not \(protocolVersion)")
            }
            guard hello.nonce.count == Self.nonceSize else { return failed("nonce of wrong size") }
            let proof = Self.proof(
                secret: secret, role: .acceptor, initiator: hello.node, initiatorNonce: hello.nonce,
                acceptor: local, acceptorNonce: nonce)
            state = .awaitingProof(peer: hello.node, peerNonce: hello.nonce, labels: hello.labels)
            return .send(.challengeReply(ChallengeReplyMessage(node: local, nonce: nonce, proof: proof, labels: labels)))

        case (.awaitingChallengeReply, .challengeReply(let reply)):
            guard reply.nonce.count == Self.nonceSize else { return failed("nonce of wrong size") }
            let expected = Self.proof(
                secret: secret, role: .acceptor, initiator: local, initiatorNonce: nonce,
                acceptor: reply.node, acceptorNonce: reply.nonce)
            guard Self.constantTimeEqual(expected, reply.proof) else {
                return failed("the peer's proof is wrong: it does not share our secret")
            }
            if reply.node == local { return failed("connected to itself") }
            state = .awaitingVerdict(peer: reply.node, labels: reply.labels)
            return .send(.proof(Self.proof(
                secret: secret, role: .initiator, initiator: local, initiatorNonce: nonce,
                acceptor: reply.node, acceptorNonce: reply.nonce)))

        case (.awaitingProof(let peer, let peerNonce, let peerLabels), .proof(let proof)):
            let expected = Self.proof(
                secret: secret, role: .initiator, initiator: peer, initiatorNonce: peerNonce,
                acceptor: local, acceptorNonce: nonce)
            guard Self.constantTimeEqual(expected, proof) else {
                return failed("the peer's proof is wrong: it does not share our secret")
            }
            state = .done
            return .admit(peer: peer, labels: peerLabels)

        case (.awaitingVerdict(let peer, let peerLabels), .accepted):
            state = .done
            return .established(peer: peer, labels: peerLabels)

        case (.awaitingVerdict, .rejected(let reason)):
            state = .done
            return .refused(reason)

        default:
            return failed("unexpected \(Self.name(of: message)) frame during the handshake")
        }
    }

    private mutating func failed(_ reason: String) -> Action {
        state = .done
        return .fail(reason)
    }

    static func proof(
        secret: ClusterSecret, role: Role, initiator: NodeID, initiatorNonce: [UInt8],
        acceptor: NodeID, acceptorNonce: [UInt8]
    ) -> [UInt8] {
        var transcript = ByteBuffer()
        transcript.writeInteger(role == .initiator ? UInt8(ascii: "I") : UInt8(ascii: "A"))
        transcript.writeInteger(protocolVersion)
        transcript.writeLengthPrefixedBytes(initiatorNonce)
        transcript.writeLengthPrefixedBytes(acceptorNonce)
        transcript.writeNodeID(initiator)
        transcript.writeNodeID(acceptor)
        let code = transcript.withUnsafeReadableBytes {
            HMAC<SHA256>.authenticationCode(for: $0, using: secret.key)
        }
        return Array(code)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    static func randomNonce() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<nonceSize).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    static func name(of message: WireMessage) -> String {
        switch message {
        case .hello: "hello"
        case .challengeReply: "challengeReply"
        case .proof: "proof"
        case .accepted: "accepted"
        case .rejected: "rejected"
        case .heartbeat: "heartbeat"
        case .members: "members"
        case .leaving: "leaving"
        case .call: "call"
        case .reply: "reply"
        }
    }
}

extension Handshake.HandshakeMessage {
    var wire: WireMessage {
        switch self {
        case .hello(let m): .hello(m)
        case .challengeReply(let m): .challengeReply(m)
        case .proof(let p): .proof(p)
        }
    }
}
