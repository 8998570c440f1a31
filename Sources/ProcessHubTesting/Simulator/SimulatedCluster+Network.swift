import ClusterNode
import ProcessHub

/// Links and membership: what the engine would tell each hub about its peers.
///
/// A link opens only when both nodes run, neither is stalled, neither direction is cut, and both
/// machines have processed the previous link's end: each side then hears `memberUp` of the other
/// before any message on the new link. A link that loses messages is always closed, and both
/// sides told, before it is used again, as a broken TCP connection would be.
extension SimulatedCluster {
    /// Opens the link of `pair` if it can be opened now.
    func reconnect(_ pair: SlotPair) {
        let (a, b) = (pair.from, pair.to)
        guard a != b, canConnect(a), canConnect(b), !network.isBlocked(pair), !network.isBlocked(pair.reversed),
            !network.link(pair).open
        else { return }
        for side in [pair, pair.reversed] where network.announced[side] != nil || network.seenUp.contains(side) { return }
        network.update(pair) { link in
            link.epoch += 1
            link.open = true
            link.damaged = false
        }
        let atA = announceUp(observer: a, subject: b)
        let atB = announceUp(observer: b, subject: a)
        // Messages on the new link come after the other side's memberUp.
        network.lastDelivery[pair] = atB
        network.lastDelivery[pair.reversed] = atA
    }

    private func canConnect(_ slot: Int) -> Bool { nodes[slot].isLive && nodes[slot].stall == nil }

    /// Tells `observer` that `subject` is up; returns when.
    private func announceUp(observer: Int, subject: Int) -> Int64 {
        network.announced[SlotPair(from: observer, to: subject)] = nodes[subject].id
        return scheduleMembership(.memberUp(nodes[subject].id), to: observer, at: now + draw(options.linkDelay))
    }

    /// Tells `observer` that `subject` (as it was announced) is down, if it was told it was up.
    func announceDown(observer: Int, subject: Int, reason: MemberDownReason, at time: Int64) {
        let pair = SlotPair(from: observer, to: subject)
        guard let id = network.announced.removeValue(forKey: pair) else { return }
        scheduleMembership(.memberDown(id, reason: reason), to: observer, at: time)
    }

    /// Membership events of one node keep their order.
    @discardableResult
    private func scheduleMembership(_ input: HubInput, to slot: Int, at time: Int64) -> Int64 {
        let due = max(time, nodes[slot].membershipClock)
        nodes[slot].membershipClock = due
        queue.schedule(.input(slot: slot, incarnation: nodes[slot].id.incarnation, input), at: due)
        return due
    }

    /// Keeps what each machine has processed, and reconnects once both sides saw a link end.
    func membershipProcessed(_ input: HubInput, on slot: Int) {
        switch input {
        case .memberUp(let id):
            if let peer = self.slot(of: id) { network.seenUp.insert(SlotPair(from: slot, to: peer)) }
        case .memberDown(let id, _):
            let peer = id.port - 7_001
            guard peer >= 0, peer < nodes.count else { return }
            network.seenUp.remove(SlotPair(from: slot, to: peer))
            reconnect(SlotPair(from: slot, to: peer))
        default:
            break
        }
    }

    /// Closes the link between `a` and `b`: whatever is in flight on it is lost.
    func close(_ pair: SlotPair) {
        network.update(pair) { $0.open = false }
    }

    // MARK: Failure detection

    /// Arms `observer`'s failure detector for `subject`, which it cannot hear any more.
    func suspect(observer: Int, subject: Int, stall: UInt64?) {
        let pair = SlotPair(from: observer, to: subject)
        guard network.link(pair).open, network.announced[pair] != nil else { return }
        let epoch = network.link(pair).epoch
        queue.schedule(.detect(observer: observer, subject: subject, epoch: epoch, stall: stall), at: now + draw(options.detectionDelay))
    }

    /// The failure detector fires, if `observer` still cannot hear `subject` on the same link.
    func detect(_ observer: Int, _ subject: Int, epoch: Int, stall: UInt64?) {
        let pair = SlotPair(from: observer, to: subject)
        guard nodes[observer].alive, network.link(pair).epoch == epoch, network.announced[pair] != nil else { return }
        let silent = stall.map { nodes[subject].stall == $0 } ?? network.isBlocked(pair.reversed)
        guard silent else { return }
        note("\(nodes[observer].id.name) declares \(nodes[subject].id.name) down", node: observer)
        close(pair)
        announceDown(observer: observer, subject: subject, reason: .heartbeatTimeout, at: now)
        if stall != nil {
            // The stalled node finds the connection closed when it runs again.
            announceDown(observer: subject, subject: observer, reason: .connectionLost, at: now)
        } else if !network.isBlocked(pair) {
            // One-way cut: the close reaches the far side, which then sees the link end.
            announceDown(observer: subject, subject: observer, reason: .connectionLost, at: now + draw(options.closeNoticeDelay))
        }
        // A symmetric cut: the far side's own detector fires in its own time.
    }

    // MARK: Cuts

    /// Cuts the directions in `directions`; open links across them will be noticed.
    func cut(_ directions: [SlotPair]) {
        for pair in directions {
            network.blocked.insert(pair)
            if network.link(pair).open { network.update(pair) { $0.damaged = true } }
            suspect(observer: pair.to, subject: pair.from, stall: nil)
        }
    }

    /// Removes every cut. A link that lost messages but was not noticed yet is closed now (both
    /// sides told), then every pair that can reconnects.
    func healEverything() {
        currentSplit = nil
        guard !network.blocked.isEmpty || network.links.values.contains(where: \.damaged) else { return }
        note("heal")
        network.blocked = []
        for (pair, link) in network.links.sorted(by: { ($0.key.from, $0.key.to) < ($1.key.from, $1.key.to) }) where link.damaged && link.open {
            close(pair)
            announceDown(observer: pair.from, subject: pair.to, reason: .heartbeatTimeout, at: now)
            announceDown(observer: pair.to, subject: pair.from, reason: .heartbeatTimeout, at: now)
        }
        reconnectAll()
    }

    func reconnectAll() {
        for a in nodes.indices { for b in nodes.indices where a < b { reconnect(SlotPair(from: a, to: b)) } }
    }

    /// Every live node's peers see it go: `reason` after a delay drawn from `delay`.
    func disconnect(_ slot: Int, reason: MemberDownReason, delay: ClosedRange<Duration>) {
        for peer in nodes.indices where peer != slot {
            close(SlotPair(from: slot, to: peer))
            announceDown(observer: peer, subject: slot, reason: reason, at: now + draw(delay))
            network.announced[SlotPair(from: slot, to: peer)] = nil
            network.seenUp.remove(SlotPair(from: slot, to: peer))
        }
    }
}
