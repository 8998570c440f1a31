import NIOCore

/// The protocol's magic bytes, first in every `hello`: "PHUB".
let protocolMagic: UInt32 = 0x5048_5542
/// The wire protocol version. Nodes of different versions refuse each other.
let protocolVersion: UInt16 = 1

/// The first byte of every frame's body: what the frame carries.
enum FrameKind: UInt8 {
    case hello = 1
    case challengeReply = 2
    case proof = 3
    case accepted = 4
    case rejected = 5
    case heartbeat = 10
    case members = 11
    case leaving = 12
    case call = 20
    case reply = 21
}

/// Why an acceptor refuses an authenticated connection.
enum RejectReason: UInt8, Sendable {
    /// A link between the two nodes already exists or wins the tie-break.
    case duplicate = 1
    /// The acceptor is shutting down.
    case shuttingDown = 2
    /// The initiator claims to be the acceptor itself.
    case selfConnection = 3
}

/// Opens a handshake: who I am and a fresh nonce.
struct HelloMessage: Equatable {
    var magic: UInt32 = protocolMagic
    var version: UInt16 = protocolVersion
    var node: NodeID
    var nonce: [UInt8]
    var labels: [String: String]
}

/// The acceptor's answer: who it is, its nonce and its proof of the secret.
struct ChallengeReplyMessage: Equatable {
    var node: NodeID
    var nonce: [UInt8]
    var proof: [UInt8]
    var labels: [String: String]
}

/// How a remote call names its target actor on the receiving node.
enum LocalActorRef: Hashable, Sendable {
    case serial(UInt64)
    case name(String)
}

/// A remote call as it travels. Arguments stay encoded until the target decodes them.
struct CallMessage {
    var callID: UInt64
    var targetIncarnation: UInt64
    var target: LocalActorRef
    var method: String
    var genericSubstitutions: [String]
    var arguments: [ByteBuffer]
}

/// The outcome of a remote call as it travels back.
enum ReplyOutcome: Sendable {
    case value(ByteBuffer)
    case void
    /// A registered Codable error type: its name and encoded value.
    case registeredError(typeName: String, payload: ByteBuffer)
    /// Any other error, described.
    case error(ClusterError)
}

struct ReplyMessage: Sendable {
    var callID: UInt64
    var outcome: ReplyOutcome
}

/// One decoded frame.
enum WireMessage {
    case hello(HelloMessage)
    case challengeReply(ChallengeReplyMessage)
    case proof([UInt8])
    case accepted
    case rejected(RejectReason)
    case heartbeat
    case members([NodeID])
    case leaving
    case call(CallMessage)
    case reply(ReplyMessage)
}
