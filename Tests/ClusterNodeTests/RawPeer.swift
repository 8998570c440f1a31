import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import ProcessHubTesting
import Synchronization
import Testing

@testable import ClusterNode

/// A hand-driven TCP peer: it sends whatever bytes a test wants (garbage, oversized frames,
/// forged handshakes, crafted calls) and reads the node's frames back.
final class RawPeer: Sendable {
    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = Mutex(ByteBuffer())
        let tlsHandshakeCompleted = Atomic(false)
        let errors = Mutex<[String]>([])
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var incoming = unwrapInboundIn(data)
            _ = received.withLock { $0.writeBuffer(&incoming) }
        }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .handshakeCompleted = event as? TLSUserEvent { tlsHandshakeCompleted.store(true, ordering: .relaxed) }
            context.fireUserInboundEventTriggered(event)
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            errors.withLock { $0.append("\(error)") }
        }
    }

    /// Whether the TLS handshake completed from this side (for a TLS peer).
    var tlsHandshakeCompleted: Bool { collector.tlsHandshakeCompleted.load(ordering: .relaxed) }
    /// The errors the connection reported (TLS alerts among them).
    var errors: [String] { collector.errors.withLock { $0 } }

    let channel: any Channel
    private let collector: Collector
    private let methods = Mutex<[UInt64: String]>([:])

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    /// Connects in plain TCP, or through TLS with `tls` (a client context of the test's choosing).
    static func connect(to address: NodeAddress, tls: NIOSSLContext? = nil) async throws -> RawPeer {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls { try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil)) }
                    try sync.addHandler(collector)
                }
            }
            .connect(host: address.host, port: address.port).get()
        return RawPeer(channel: channel, collector: collector)
    }

    func send(bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    func send(_ message: WireMessage) async throws {
        var buffer = ByteBuffer()
        FrameCodec.write(message, into: &buffer)
        try await channel.writeAndFlush(buffer)
    }

    /// The next frame the node sent, decoded (call method names resolved like a real link).
    func next(timeout: Duration = .seconds(10)) async throws -> WireMessage {
        var message: WireMessage?
        try await waitUntil(timeout: timeout, "a frame from the node") {
            message = try collector.received.withLock { stream -> WireMessage? in
                guard let frame = try FrameCodec.nextFrame(from: &stream, maxFrameSize: 1 << 26) else { return nil }
                return try FrameCodec.parse(kind: frame.kind, body: frame.body) { ref in
                    self.methods.withLock { table in
                        switch ref {
                        case .inline(let name): return name
                        case .define(let id, let name):
                            table[id] = name
                            return name
                        case .reference(let id): return table[id]
                        }
                    }
                }
            }
            return message != nil
        }
        return message!
    }

    /// The next frame that is not a heartbeat or a member list.
    func nextSignificant(timeout: Duration = .seconds(10)) async throws -> WireMessage {
        while true {
            let message = try await next(timeout: timeout)
            switch message {
            case .heartbeat, .members: continue
            default: return message
            }
        }
    }

    /// Authenticates as `identity` with `secret`; returns the node's final handshake action.
    func authenticate(as identity: NodeID, secret: String) async throws -> Handshake.Action {
        var handshake = Handshake(role: .initiator, local: identity, secret: ClusterSecret(secret), labels: [:])
        guard case .send(let hello) = handshake.start() else { return .fail("no hello") }
        try await send(hello.wire)
        let reply = handshake.receive(try await next())
        guard case .send(let proof) = reply else { return reply }
        try await send(proof.wire)
        return handshake.receive(try await next())
    }

    /// Whether the node closed the connection within `timeout`.
    func closedByNode(within timeout: Duration = .seconds(10)) async -> Bool {
        (try? await waitUntil(timeout: timeout, "the node to close the connection") { !channel.isActive }) != nil
    }

    func close() async {
        try? await channel.close()
    }
}
