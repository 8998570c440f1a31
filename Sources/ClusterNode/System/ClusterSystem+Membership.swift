import Logging
import NIOCore
import NIOPosix

/// The system's transport side: listening, dialling, admitting links, publishing membership.
extension ClusterSystem {
    // MARK: Membership queries

    /// The nodes this node currently has an authenticated link to (itself excluded).
    public var members: [NodeID] {
        state.withLock { $0.membership.members }
    }

    /// Membership changes from now on, preceded by an `up` event for every current member,
    /// so a subscriber never misses a node. The stream finishes when the node shuts down.
    public func membershipEvents() -> AsyncStream<MembershipEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: MembershipEvent.self, bufferingPolicy: .unbounded)
        let subscribed = state.withLock { state in
            guard !state.isShuttingDown else { return false }
            for member in state.membership.members { continuation.yield(.up(member)) }
            state.nextSubscriber += 1
            state.subscribers[state.nextSubscriber] = continuation
            return true
        }
        if !subscribed { continuation.finish() }
        // No `onTermination` handler: it would run under the cancelled task's status lock and
        // take our lock, while `publish` holds our lock and resumes tasks (which takes their
        // status lock) — a lock-order inversion. Ended streams are dropped when a yield finds
        // them terminated.
        return stream
    }

    /// Delivers events in the order of the state changes (the caller holds the lock).
    private func publish(_ events: [MembershipEvent], in state: inout State) {
        for event in events {
            logger.info("membership: \(event)")
            for (id, subscriber) in state.subscribers {
                if case .terminated = subscriber.yield(event) { state.subscribers[id] = nil }
            }
        }
        if !events.isEmpty { metrics.peers.record(state.membership.members.count) }
    }

    // MARK: Starting

    /// Binds the listening socket and starts the periodic connect/announce tick.
    func startTransport(server: any Channel) {
        let interval = settings.reconnectInterval.timeAmount
        let ticker = group.next().scheduleRepeatedTask(initialDelay: .zero, delay: interval) { [weak self] _ in
            self?.tick()
        }
        state.withLock {
            $0.serverChannel = server
            $0.ticker = ticker
        }
    }

    static func bindServer(
        host: String, port: Int, group: any EventLoopGroup, system: @escaping @Sendable () -> ClusterSystem?
    ) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard let system = system() else { return channel.close() }
                return channel.eventLoop.makeCompletedFuture {
                    try system.installHandlers(on: channel, role: .acceptor, dialling: nil)
                }
            }
            .bind(host: host, port: port).get()
    }

    func installHandlers(on channel: any Channel, role: Handshake.Role, dialling address: NodeAddress?) throws {
        let id = nextLinkID.wrappingAdd(1, ordering: .relaxed).oldValue
        let sync = channel.pipeline.syncOperations
        // TLS first: the handshake below and every frame after it travel inside it.
        if let tls { try sync.addHandler(try tls.handler(for: role)) }
        try sync.addHandler(
            IdleStateHandler(
                readTimeout: settings.heartbeatTimeout.timeAmount, writeTimeout: settings.heartbeatInterval.timeAmount))
        try sync.addHandler(LinkHandler(system: self, linkID: id, role: role, dialling: address))
    }

    // MARK: Dialling

    private func tick() {
        let (addresses, announce) = state.withLock { state -> ([NodeAddress], [Link]) in
            guard !state.isShuttingDown else { return ([], []) }
            state.ticks += 1
            let announce = state.ticks % 5 == 0 ? Array(state.links.values) : []
            return (state.membership.addressesToConnect(now: .now), announce)
        }
        for address in addresses { dial(address) }
        if !announce.isEmpty {
            let members = self.members
            for link in announce { link.send(.members(members.filter { $0 != link.peer })) }
        }
    }

    private func dial(_ address: NodeAddress) {
        logger.debug("connecting to \(address)")
        let connect = ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(settings.handshakeTimeout.timeAmount)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try self.installHandlers(on: channel, role: .initiator, dialling: address)
                }
            }
            .connect(host: address.host, port: address.port)
        connect.whenFailure { [self] error in
            logger.debug("cannot connect to \(address): \(error)")
            outboundAttemptEnded(address)
        }
    }

    func outboundAttemptEnded(_ address: NodeAddress) {
        state.withLock { $0.membership.outboundAttemptEnded(address) }
    }

    // MARK: Links

    /// Decides whether an authenticated link becomes the link to its peer.
    /// Returns `nil` to admit it, or why it is refused.
    func admit(_ link: Link) -> RejectReason? {
        let (decision, superseded) = state.withLock { state -> (RejectReason?, Link?) in
            if state.isShuttingDown { return (.shuttingDown, nil) }
            if link.peer.sameEndpoint(as: nodeID) { return (.selfConnection, nil) }
            switch state.membership.admit(peer: link.peer, link: link.record) {
            case .reject:
                return (.duplicate, nil)
            case .accept(let supersededID, let events):
                var superseded: Link?
                if let supersededID {
                    superseded = state.links.values.first { $0.id == supersededID }
                    if let old = superseded { state.links[old.peer] = nil }
                }
                state.links[link.peer] = link
                publish(events, in: &state)
                return (nil, superseded)
            }
        }
        if let superseded {
            logger.debug("closing superseded link \(superseded.id) to \(superseded.peer)")
            _ = superseded.close(leaving: false)
        }
        return decision
    }

    /// A link became usable: tell the peer who else we know, so the mesh closes.
    func linkIsUp(_ link: Link) {
        link.send(.members(members.filter { $0 != link.peer }))
    }

    func linkClosed(_ link: Link, reason: MembershipEvent.DownReason) {
        state.withLock { state in
            let events = state.membership.linkClosed(peer: link.peer, linkID: link.id, reason: reason, now: .now)
            if !events.isEmpty, state.links[link.peer] === link { state.links[link.peer] = nil }
            publish(events, in: &state)
        }
    }

    func learned(_ members: [NodeID], from link: Link) {
        let addresses = state.withLock { state -> [NodeAddress] in
            guard !state.isShuttingDown else { return [] }
            state.membership.learned(members, now: .now)
            return state.membership.addressesToConnect(now: .now)
        }
        for address in addresses { dial(address) }
    }

    // MARK: Shutdown

    /// Tells every peer this node is leaving, closes all links and the listener, and finishes
    /// the membership streams. Calls in flight fail with ``ClusterError/Code/nodeDown``.
    func shutdownTransport() async {
        let (links, server, subscribers) = state.withLock { state in
            state.isShuttingDown = true
            state.ticker?.cancel()
            defer { state.subscribers.removeAll() }
            return (Array(state.links.values), state.serverChannel, Array(state.subscribers.values))
        }
        try? await server?.close()
        for link in links {
            _ = try? await link.close(leaving: true).get()
        }
        for link in links {
            try? await link.channel.closeFuture.get()
        }
        for subscriber in subscribers { subscriber.finish() }
        releaseAll()
    }
}
