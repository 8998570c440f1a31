/// Who is connected, who is being connected to, and who to retry: a value-type state machine.
///
/// The transport tells it what happened (a link authenticated, a link closed, members learned, a
/// tick of the clock) and it answers with decisions and events; it does no I/O itself, so it can
/// be tested without sockets and later driven by a simulator.
struct Membership {
    /// One authenticated link, as membership needs to know it.
    struct LinkRecord: Equatable {
        var id: UInt64
        /// Which side opened the connection: the tie-break between simultaneous connects.
        var initiator: NodeID
    }

    /// What to do with a newly authenticated link.
    enum Admission: Equatable {
        /// Keep it. `superseding` is a link to the same node to close without a down event;
        /// `events` are to publish.
        case accept(superseding: UInt64?, events: [MembershipEvent])
        /// Refuse it: the other link between the two nodes wins.
        case reject
    }

    private struct Target {
        var isSeed: Bool
        /// When the node at this address was last seen going down (not by leaving).
        var downSince: ContinuousClock.Instant?
    }

    let local: NodeID
    private(set) var up: [NodeID: LinkRecord] = [:]
    private var pendingOutbound: Set<NodeAddress> = []
    private var targets: [NodeAddress: Target] = [:]
    /// Nodes seen down and not up again (fail-fast for calls and resolves).
    private(set) var down: Set<NodeID> = []
    private let forgetAfter: Duration

    init(local: NodeID, seeds: [NodeAddress], forgetAfter: Duration) {
        self.local = local
        self.forgetAfter = forgetAfter
        for seed in seeds where seed != local.address {
            targets[seed] = Target(isSeed: true, downSince: nil)
        }
    }

    var members: [NodeID] { up.keys.sorted() }

    /// Whether `node` is a dead life of its endpoint: down, or replaced by a newer incarnation.
    func isDead(_ node: NodeID) -> Bool {
        if down.contains(node) { return true }
        if node.sameEndpoint(as: local) { return node != local }
        return up.keys.contains { $0.sameEndpoint(as: node) && $0 != node }
    }

    // MARK: Connecting

    /// Addresses to open a connection to now; they become pending.
    mutating func addressesToConnect(now: ContinuousClock.Instant) -> [NodeAddress] {
        var result: [NodeAddress] = []
        for (address, target) in targets {
            if pendingOutbound.contains(address) || isUp(at: address) { continue }
            if !target.isSeed, let since = target.downSince, now - since > forgetAfter {
                targets[address] = nil
                continue
            }
            pendingOutbound.insert(address)
            result.append(address)
        }
        return result
    }

    /// An outbound attempt ended (connected, refused, failed, or rejected).
    mutating func outboundAttemptEnded(_ address: NodeAddress) {
        pendingOutbound.remove(address)
    }

    /// Members announced by a peer; unknown ones become connection targets.
    mutating func learned(_ nodes: [NodeID], now: ContinuousClock.Instant) {
        for node in nodes where !node.sameEndpoint(as: local) && up[node] == nil {
            if targets[node.address] == nil {
                targets[node.address] = Target(isSeed: false, downSince: nil)
            }
        }
    }

    private func isUp(at address: NodeAddress) -> Bool {
        up.keys.contains { $0.address == address }
    }

    // MARK: Links

    /// An authenticated link to `peer` wants to become the link to that node.
    ///
    /// Between two nodes exactly one link survives: the one opened by the smaller ``NodeID``.
    /// A new link from the same initiator replaces the old one (the old one is half-open).
    mutating func admit(peer: NodeID, link: LinkRecord) -> Admission {
        if let existing = up[peer] {
            let winner = min(peer, local)
            if existing.initiator != link.initiator && existing.initiator == winner { return .reject }
            up[peer] = link
            return .accept(superseding: existing.id, events: [])
        }
        // An acceptor whose own connection to the peer is still in flight: the smaller node's wins.
        if link.initiator == peer && pendingOutbound.contains(peer.address) && local < peer {
            return .reject
        }
        var events: [MembershipEvent] = []
        var superseding: UInt64?
        if let older = up.first(where: { $0.key.sameEndpoint(as: peer) })?.key {
            superseding = up.removeValue(forKey: older)?.id
            down.insert(older)
            events.append(.down(older, .restarted))
        }
        up[peer] = link
        down.remove(peer)
        targets[peer.address, default: Target(isSeed: false)].downSince = nil
        events.append(.up(peer))
        return .accept(superseding: superseding, events: events)
    }

    /// A link closed (or its peer said it is leaving). Returns the events to publish.
    mutating func linkClosed(peer: NodeID, linkID: UInt64, reason: MembershipEvent.DownReason, now: ContinuousClock.Instant)
        -> [MembershipEvent]
    {
        guard up[peer]?.id == linkID else { return [] }
        up[peer] = nil
        down.insert(peer)
        if reason == .left {
            if targets[peer.address]?.isSeed == true {
                targets[peer.address]?.downSince = now
            } else {
                targets[peer.address] = nil
            }
        } else {
            targets[peer.address, default: Target(isSeed: false)].downSince = now
        }
        return [.down(peer, reason)]
    }
}
