import NIOCore

@testable import ClusterNode

/// Drives the handshake state machines with frames taken from fuzz input and checks what must
/// hold whatever arrives:
/// - a lone acceptor or initiator fed only fuzz frames never authenticates anyone (the input
///   cannot contain a proof: proofs cover nonces drawn fresh in each run);
/// - when the fuzzer interferes with a genuine handshake (injects, replaces or replays frames),
///   a side that succeeds has authenticated its real counterpart, never another identity;
/// - without interference, both sides succeed.
public enum HandshakeFuzz {
    static let secret = ClusterSecret("the fuzz input never sees this secret")
    static let alice = NodeID(name: "alice", host: "127.0.0.1", port: 7001, incarnation: 1)
    static let bob = NodeID(name: "bob", host: "127.0.0.1", port: 7002, incarnation: 2)

    /// Fuzz input as a sequence of control bytes and frames (`[length][kind][body]`, length ≤ 255).
    struct Input {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        var isEmpty: Bool { index >= bytes.count }

        mutating func byte() -> UInt8? {
            guard index < bytes.count else { return nil }
            defer { index += 1 }
            return bytes[index]
        }

        /// The next frame, or `nil` when it does not decode (its bytes are consumed either way).
        mutating func frame() -> WireMessage? {
            guard let length = byte(), length > 0, let kind = byte() else { return nil }
            let end = min(bytes.count, index + Int(length) - 1)
            let body = ByteBuffer(bytes: bytes[index..<end])
            index = end
            return try? FrameCodec.parse(kind: kind, body: body, resolveMethod: FrameStream.inlineOnly)
        }
    }

    public static func run(_ data: UnsafeRawBufferPointer) {
        var input = Input(bytes: data)
        switch input.byte().map({ $0 % 3 }) {
        case 0: loneAcceptor(&input)
        case 1: loneInitiator(&input)
        case 2: interferedHandshake(&input)
        default: return
        }
    }

    static func loneAcceptor(_ input: inout Input) {
        var acceptor = Handshake(role: .acceptor, local: bob, secret: secret, labels: [:])
        while !input.isEmpty {
            guard let message = input.frame() else { continue }
            if case .admit(let peer, _) = acceptor.receive(message) {
                fatalError("the acceptor admitted \(peer) without a valid proof")
            }
        }
    }

    static func loneInitiator(_ input: inout Input) {
        var initiator = Handshake(role: .initiator, local: alice, secret: secret, labels: [:])
        _ = initiator.start()
        while !input.isEmpty {
            guard let message = input.frame() else { continue }
            switch initiator.receive(message) {
            case .established(let peer, _), .admit(let peer, _):
                fatalError("the initiator authenticated \(peer) without a valid proof")
            case .refused:
                fatalError("the initiator reached the verdict without a valid proof")
            case .send, .fail:
                break
            }
        }
    }

    /// A genuine handshake whose every delivery the input may tamper with.
    static func interferedHandshake(_ input: inout Input) {
        var initiator = Handshake(role: .initiator, local: alice, secret: secret, labels: ["side": "i"])
        var acceptor = Handshake(role: .acceptor, local: bob, secret: secret, labels: ["side": "a"])
        var toAcceptor: [WireMessage] = []
        var toInitiator: [WireMessage] = []
        var tampered = false
        var admitted = false
        var established = false
        if case .send(let hello) = initiator.start() { toAcceptor.append(hello.wire) }

        /// Delivers the next genuine message of `queue`, altered as the input says.
        func deliveries(from queue: inout [WireMessage], _ input: inout Input) -> [WireMessage] {
            guard !queue.isEmpty else { return [] }
            let genuine = FrameStream.roundTripped(queue.removeFirst())
            switch input.byte().map({ $0 % 4 }) ?? 0 {
            case 1:  // inject a frame first
                tampered = true
                return (input.frame().map { [$0] } ?? []) + [genuine]
            case 2:  // replace it
                tampered = true
                return input.frame().map { [$0] } ?? []
            case 3:  // replay it
                tampered = true
                return [genuine, genuine]
            default:
                return [genuine]
            }
        }

        var rounds = 0
        while !(toAcceptor.isEmpty && toInitiator.isEmpty), rounds < 16 {
            rounds += 1
            for message in deliveries(from: &toAcceptor, &input) {
                switch acceptor.receive(message) {
                case .send(let reply): toInitiator.append(reply.wire)
                case .admit(let peer, let labels):
                    precondition(peer == alice && labels == ["side": "i"], "the acceptor admitted an impostor: \(peer)")
                    admitted = true
                    toInitiator.append(.accepted)
                case .established, .refused:
                    fatalError("an acceptor never establishes or is refused")
                case .fail:
                    break
                }
            }
            for message in deliveries(from: &toInitiator, &input) {
                switch initiator.receive(message) {
                case .send(let reply): toAcceptor.append(reply.wire)
                case .established(let peer, let labels):
                    precondition(peer == bob && labels == ["side": "a"], "the initiator accepted an impostor: \(peer)")
                    established = true
                case .refused:
                    // Only an injected `rejected` frame can say so: the genuine acceptor admits.
                    precondition(tampered, "the initiator was refused by the genuine acceptor")
                case .admit:
                    fatalError("an initiator never admits")
                case .fail:
                    break
                }
            }
        }
        precondition(tampered || (admitted && established), "an untouched handshake did not complete")
    }
}

extension FrameStream {
    /// `message` after passing through the codec, as the peer would see it.
    static func roundTripped(_ message: WireMessage) -> WireMessage {
        var buffer = encode(message)
        guard let frame = try? FrameCodec.nextFrame(from: &buffer, maxFrameSize: .max),
            let decoded = try? FrameCodec.parse(kind: frame.kind, body: frame.body, resolveMethod: inlineOnly)
        else { fatalError("a genuine \(Handshake.name(of: message)) frame does not decode") }
        return decoded
    }
}
