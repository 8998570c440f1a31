import Logging
import NIOCore

/// The channel handler of one connection: it cuts frames, runs the handshake, sends heartbeats,
/// and, once the link is up, correlates remote calls with their replies.
///
/// It lives on its channel's event loop; other threads reach it through ``Link``.
final class LinkHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The largest frame accepted before the peer has authenticated: enough for a handshake,
    /// small enough that garbage cannot make us buffer megabytes.
    static let handshakeFrameLimit = 16 * 1024
    /// Per-link cap on interned method names (a hostile peer cannot grow the table without bound).
    static let maxInternedMethods = 4096

    private struct PendingCall {
        var continuation: CheckedContinuation<ReplyOutcome, any Error>
        var deadline: NIODeadline
        var timeout: Duration
    }

    /// How often pending calls are checked for expiry. One sweep per link instead of a timer per
    /// call keeps the call path free of timer allocations; a timeout fires at most this late.
    static let timeoutResolution = TimeAmount.milliseconds(20)

    private let system: ClusterSystem
    private let linkID: UInt64
    /// For outbound connections: the address we dialled (to report the attempt's end once).
    private var dialledAddress: NodeAddress?
    private var handshake: Handshake
    private var logger: Logger
    private let maxFrameSize: Int

    private var context: ChannelHandlerContext?
    private(set) var link: Link?
    private var stream = ByteBuffer()
    private var pendingCalls: [UInt64: PendingCall] = [:]
    private var timeoutSweep: Scheduled<Void>?
    private var highestStartedCall: UInt64 = 0
    private var cancelledBeforeStart: Set<UInt64> = []
    private var outboundMethods: [String: UInt64] = [:]
    private var inboundMethods: [UInt64: String] = [:]
    private var flushScheduled = false
    /// Counts inbound reads, to tell a silent peer from a stalled event loop.
    private var framesRead: UInt64 = 0
    private var closeReason: MembershipEvent.DownReason = .connectionLost
    private var closeReported = false
    private var handshakeTimer: Scheduled<Void>?
    /// Set once the handler decided to close: nothing more is read or written.
    private var closing = false

    init(system: ClusterSystem, linkID: UInt64, role: Handshake.Role, dialling address: NodeAddress? = nil) {
        self.system = system
        self.linkID = linkID
        self.dialledAddress = address
        self.handshake = Handshake(
            role: role, local: system.nodeID, secret: system.settings.secret, labels: system.settings.labels)
        self.maxFrameSize = system.settings.maxFrameSize
        var logger = system.logger
        if let address { logger[metadataKey: "peer"] = "\(address)" }
        self.logger = logger
    }

    // MARK: Channel events

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        if logger[metadataKey: "peer"] == nil, let remote = context.remoteAddress {
            logger[metadataKey: "peer"] = "\(remote)"
        }
        handshakeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: system.settings.handshakeTimeout.timeAmount) {
            guard self.link == nil else { return }
            self.closeConnection(warning: "handshake not completed within \(self.system.settings.handshakeTimeout)")
        }
        if handshake.role == .initiator {
            perform(handshake.start())
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshakeTimer?.cancel()
        let calls = pendingCalls
        pendingCalls.removeAll()
        timeoutSweep?.cancel()
        for call in calls.values {
            call.continuation.resume(
                throwing: ClusterError(.nodeDown, "the link to \(link?.peer.description ?? "the peer") closed"))
        }
        if let link, !closeReported {
            closeReported = true
            system.linkClosed(link, reason: closeReason)
        }
        reportDialEnded()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        framesRead &+= 1
        if stream.readableBytes == 0 {
            stream = incoming
        } else {
            stream.writeBuffer(&incoming)
        }
        do {
            let limit = link == nil ? min(Self.handshakeFrameLimit, maxFrameSize) : maxFrameSize
            while !closing,
                let frame = try FrameCodec.nextFrame(from: &stream, maxFrameSize: limit)
            {
                let message = try FrameCodec.parse(kind: frame.kind, body: frame.body, resolveMethod: resolveMethod)
                handle(message)
            }
        } catch {
            protocolViolation(error.description)
            return
        }
        if stream.readerIndex > 64 * 1024 { stream.discardReadBytes() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent, link != nil else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch idle {
        case .write:
            send(.heartbeat)
        case .read:
            // Check again after one more pass of the event loop: if this loop was stalled (a
            // blocking task), the peer's frames may be waiting unread and the peer is fine.
            let readsBefore = framesRead
            context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(10)) {
                guard self.framesRead == readsBefore else { return }
                self.closeReason = .heartbeatTimeout
                self.closeConnection(
                    warning: "nothing received for \(self.system.settings.heartbeatTimeout) (heartbeat timeout)")
            }
        case .all:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closeConnection(warning: "\(error)")
    }

    // MARK: Handshake

    private func handle(_ message: WireMessage) {
        guard let link else {
            perform(handshake.receive(message))
            return
        }
        switch message {
        case .heartbeat:
            break
        case .members(let members):
            system.learned(members, from: link)
        case .leaving:
            closeReason = .left
            if !closeReported {
                closeReported = true
                system.linkClosed(link, reason: .left)
            }
        case .call(let call):
            system.receive(call, on: link)
        case .reply(let reply):
            complete(reply)
        case .hello, .challengeReply, .proof, .accepted, .rejected:
            protocolViolation("unexpected \(Handshake.name(of: message)) frame on an established link")
        }
    }

    private func perform(_ action: Handshake.Action) {
        switch action {
        case .send(let message):
            send(message.wire)
        case .admit(let peer, _):
            let link = makeLink(peer: peer, initiator: peer)
            if let reason = system.admit(link) {
                logger.debug("refusing authenticated connection from \(peer): \(reason)")
                send(.rejected(reason))
                closeConnection()
            } else {
                become(link)
                send(.accepted)
                system.linkIsUp(link)
            }
        case .established(let peer, _):
            reportDialEnded()
            let link = makeLink(peer: peer, initiator: system.nodeID)
            if system.admit(link) != nil {
                logger.debug("dropping connection to \(peer): another link to it wins the tie-break")
                closeConnection()
            } else {
                become(link)
                system.linkIsUp(link)
            }
        case .refused(let reason):
            logger.debug("the peer refused the connection: \(reason)")
            closeConnection()
        case .fail(let reason):
            closeConnection(warning: "handshake failed: \(reason)")
        }
    }

    private func makeLink(peer: NodeID, initiator: NodeID) -> Link {
        let context = self.context!
        return Link(
            id: linkID, peer: peer, initiator: initiator, channel: context.channel,
            handler: NIOLoopBound(self, eventLoop: context.eventLoop))
    }

    private func become(_ link: Link) {
        self.link = link
        handshakeTimer?.cancel()
        logger[metadataKey: "peer"] = "\(link.peer)"
    }

    private func reportDialEnded() {
        if let address = dialledAddress {
            dialledAddress = nil
            system.outboundAttemptEnded(address)
        }
    }

    private func protocolViolation(_ reason: String) {
        closeConnection(warning: "protocol violation: \(reason)")
    }

    /// Closes the connection once, logging one clear line when there is something to report.
    private func closeConnection(warning: String? = nil) {
        guard !closing, let context else { return }
        closing = true
        if let warning { logger.warning("closing connection: \(warning)") }
        context.flush()  // a last frame (rejected, leaving) goes out before the close
        context.close(promise: nil)
    }

    // MARK: Sending

    /// Writes a message; the flush happens once per event-loop tick for all writes of that tick.
    func send(_ message: WireMessage) {
        guard let context, !closing else { return }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        FrameCodec.write(message, into: &buffer)  // calls go through startCall
        if buffer.readableBytes - FrameCodec.headerSize > maxFrameSize {
            guard case .reply(let reply) = message else {
                logger.error("not sending a \(buffer.readableBytes)-byte frame: above the maximum frame size")
                return
            }
            let error = ClusterError(.messageTooLarge, "the reply exceeds the maximum frame size of \(maxFrameSize) bytes")
            return send(.reply(ReplyMessage(callID: reply.callID, outcome: .error(error))))
        }
        context.write(wrapOutboundOut(buffer), promise: nil)
        scheduleFlush()
    }

    /// Frames written since the last flush. Past ``flushBatchLimit`` the batch goes out at once,
    /// so the peer starts working while this side is still producing (two pipelined batches
    /// instead of strict ping-pong between two busy event loops).
    private var unflushedFrames = 0
    /// Measured with `processhub bench w5` (100 callers): no limit ~55k calls/s, 8–32 ~80–117k.
    static let flushBatchLimit = 16

    private func scheduleFlush() {
        guard let context else { return }
        unflushedFrames += 1
        if unflushedFrames >= Self.flushBatchLimit {
            unflushedFrames = 0
            context.flush()
            return
        }
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute {
            self.flushScheduled = false
            guard self.unflushedFrames > 0 else { return }
            self.unflushedFrames = 0
            self.context?.flush()
        }
    }

    /// Closes the connection, first telling the peer we are leaving.
    func close(leaving: Bool) {
        guard context != nil, !closing else { return }
        if leaving && link != nil { send(.leaving) }
        closeConnection()
    }

    // MARK: Calls

    func startCall(_ message: CallMessage, timeout: Duration, continuation: CheckedContinuation<ReplyOutcome, any Error>) {
        guard let context, link != nil, !closing else {
            return continuation.resume(throwing: ClusterError(.nodeDown, "the link to the target node is closed"))
        }
        if cancelledBeforeStart.remove(message.callID) != nil {
            return continuation.resume(throwing: CancellationError())
        }
        highestStartedCall = max(highestStartedCall, message.callID)
        var buffer = context.channel.allocator.buffer(capacity: 64)
        let methodRef = methodRef(for: message.method)
        FrameCodec.write(.call(message), into: &buffer) { _ in methodRef }
        guard buffer.readableBytes - FrameCodec.headerSize <= maxFrameSize else {
            return continuation.resume(
                throwing: ClusterError(
                    .messageTooLarge,
                    "the call to \(message.method) is \(buffer.readableBytes) bytes, above the maximum frame size \(maxFrameSize)"
                ))
        }
        pendingCalls[message.callID] = PendingCall(
            continuation: continuation, deadline: .now() + timeout.timeAmount, timeout: timeout)
        scheduleTimeoutSweep()
        // Only a frame that is really sent may define an interned name.
        if case .define(let id, let name) = methodRef { outboundMethods[name] = id }
        context.write(wrapOutboundOut(buffer), promise: nil)
        scheduleFlush()
    }

    func cancelCall(_ callID: UInt64) {
        if let call = pendingCalls.removeValue(forKey: callID) {
            call.continuation.resume(throwing: CancellationError())
        } else if callID > highestStartedCall {
            cancelledBeforeStart.insert(callID)
        }
    }

    private func complete(_ reply: ReplyMessage) {
        guard let call = pendingCalls.removeValue(forKey: reply.callID) else {
            return  // timed out or cancelled already
        }
        call.continuation.resume(returning: reply.outcome)
    }

    private func scheduleTimeoutSweep() {
        guard timeoutSweep == nil, let context else { return }
        timeoutSweep = context.eventLoop.assumeIsolated().scheduleTask(in: Self.timeoutResolution) {
            self.timeoutSweep = nil
            self.expireCalls()
        }
    }

    /// Fails the calls whose deadline passed; reschedules itself while calls are pending.
    private func expireCalls() {
        let now = NIODeadline.now()
        let expired = pendingCalls.filter { $0.value.deadline <= now }
        for (callID, call) in expired {
            pendingCalls[callID] = nil
            call.continuation.resume(
                throwing: ClusterError(.callTimeout, "no reply from \(link?.peer.description ?? "the peer") within \(call.timeout)"))
        }
        if !pendingCalls.isEmpty { scheduleTimeoutSweep() }
    }

    // MARK: Method interning

    /// How the next call frame names `name`; a `define` takes effect once the frame is sent.
    private func methodRef(for name: String) -> FrameCodec.MethodRef {
        if let id = outboundMethods[name] { return .reference(id) }
        guard outboundMethods.count < Self.maxInternedMethods else { return .inline(name) }
        return .define(UInt64(outboundMethods.count + 1), name)
    }

    private func resolveMethod(_ ref: FrameCodec.MethodRef) -> String? {
        switch ref {
        case .inline(let name):
            return name
        case .define(let id, let name):
            guard id >= 1, inboundMethods.count < Self.maxInternedMethods else { return nil }
            inboundMethods[id] = name
            return name
        case .reference(let id):
            return inboundMethods[id]
        }
    }
}

extension Duration {
    /// The same span as NIO's `TimeAmount` (saturating).
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        let nanos = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanos.overflow else { return .nanoseconds(.max) }
        return .nanoseconds(nanos.partialValue + attoseconds / 1_000_000_000)
    }
}
