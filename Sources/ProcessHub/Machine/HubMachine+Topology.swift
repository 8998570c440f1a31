import ClusterNode

/// Members and topology batches: who is reachable, who runs the hub, and what a batch of joins
/// and departures changes (placement, lost children, quorum, moves).
extension HubMachine {
    mutating func memberUp(_ node: NodeID) {
        guard node != local else { return }
        for stale in peers.union(reachable) where stale.sameEndpoint(as: node) && stale != node {
            memberDown(stale, reason: .replaced)
        }
        reachable.insert(node)
        reachableSince[node] = now
        send(.announce(Announcement(isReply: false, isDraining: isDraining, tombstones: tombstoneList)), to: node)
    }

    mutating func memberDown(_ node: NodeID, reason: MemberDownReason) {
        reachable.remove(node)
        reachableSince[node] = nil
        snapshotIDs[node] = nil
        gossip.forget(node)
        guard peers.contains(node) else { return }
        removePeer(node)
        log(.info, "hub peer \(node) down (\(reason.rawValue))")
    }

    private mutating func removePeer(_ node: NodeID) {
        peers.remove(node)
        drainingPeers.remove(node)
        gossip.forget(node)
        enqueue(.left(node))
    }

    mutating func announced(_ announcement: Announcement, by peer: NodeID) {
        guard reachable.contains(peer) else { return }
        applyTombstones(announcement.tombstones)
        guard !peers.contains(peer) else {
            // Admitted from its first announcement; it may have begun draining since.
            if announcement.isDraining { peerDrains(peer) }
            return
        }
        if !announcement.isReply {
            send(.announce(Announcement(isReply: true, isDraining: isDraining, tombstones: tombstoneList)), to: peer)
        }
        // Back before its departure was applied (a stall, a short cut): the departure happens
        // now, so the slots its snapshot brings are not purged with the old ones.
        if let index = pendingTopology.firstIndex(of: .left(peer)) {
            pendingTopology.remove(at: index)
            applyDeparture(of: peer)
        }
        peers.insert(peer)
        if announcement.isDraining { drainingPeers.insert(peer) }
        if epidemic != nil { gossip.expectSnapshot(from: peer) }
        sendSnapshot(to: peer)
        enqueue(.joined(peer))
    }

    mutating func peerDrains(_ peer: NodeID) {
        guard peers.contains(peer), !drainingPeers.contains(peer) else { return }
        drainingPeers.insert(peer)
        enqueue(.drained(peer))
    }

    mutating func peerLeaves(_ peer: NodeID) {
        guard peers.contains(peer) else { return }
        removePeer(peer)
        log(.info, "hub peer \(peer) left")
    }

    /// Adds an event to the batch, opening the debounce window with the first one.
    private mutating func enqueue(_ event: TopologyEvent) {
        if pendingTopology.isEmpty { effects.append(.setTimer(.topologyFlush, after: settings.debounce)) }
        pendingTopology.append(event)
    }

    // MARK: Applying a batch

    mutating func flushTopology() {
        let events = pendingTopology
        pendingTopology = []
        guard !events.isEmpty else { return }
        defer { runHeldCommands() }
        let left = Set(events.compactMap { if case .left(let node) = $0 { node } else { nil } })
        let joined = Set(events.compactMap { if case .joined(let node) = $0 { node } else { nil } }).intersection(peers)
        placementNodes = currentPlacementNodes()
        for node in left.sorted() { forgetSlots(of: node) }
        for node in joined.sorted() { effects.append(.hook(.nodeJoined(node))) }
        let causes = [(RedistributionKind.nodeLeave, left), (.nodeJoin, joined)].filter { !$0.1.isEmpty }
        for (kind, nodes) in causes { effects.append(.hook(.redistribution(kind, nodes: nodes.sorted(), done: false))) }
        defer { for (kind, nodes) in causes { effects.append(.hook(.redistribution(kind, nodes: nodes.sorted(), done: true))) } }
        decideQuorum(left: left.sorted(), joined: joined.sorted())
        abandonWork(with: left)
        guard !isPartitioned else { return }
        rebalance(joined: joined)
        startMissingReplicas()
        signalRoleChanges()
        recoverOrphans(ownedHereOnly: true)
        if !joined.isEmpty || !orphans.isEmpty { effects.append(.setTimer(.reconcile, after: settings.orphanGrace)) }
    }

    /// The nodes that take children: peers that do not drain, and this one unless it drains.
    func currentPlacementNodes() -> [NodeID] {
        var nodes = peers.subtracting(drainingPeers)
        if !isDraining && !hasLeft { nodes.insert(local) }
        return nodes.sorted()
    }

    /// What a departure changes: its slots go (children left without an instance become
    /// orphans), starts it did not answer are placed again, moves to it are aborted, and
    /// instances holding calls for its handovers run without them.
    private mutating func applyDeparture(of node: NodeID) {
        forgetSlots(of: node)
        abandonWork(with: [node])
    }

    private mutating func forgetSlots(of node: NodeID) {
        loseSlots(of: node)
        effects.append(.hook(.nodeLeft(node)))
    }

    /// Placed again after the quorum decision: a hub that just lost quorum keeps them instead.
    private mutating func abandonWork(with nodes: Set<NodeID>) {
        redispatchStarts(to: nodes)
        releaseHolds { nodes.contains($0.origin) }
        migrationsLost(targets: nodes)
    }

    /// Purges a departed node's slots; the children that had no other instance become orphans.
    private mutating func loseSlots(of node: NodeID) {
        let ids = (registry.idsByNode[node] ?? []).sorted()
        let entries = ids.compactMap { registry.entry(of: $0, ownedBy: node) }
        publish(registry.purge(node))
        for entry in entries where registry.version(of: entry.childID) == nil && children[entry.childID] == nil {
            guard !isCoveredByStop(entry.childID, epoch: entry.epoch) else { continue }
            orphans[entry.childID] = Orphan(draft: RegistryEntryDraft(entry), since: now)
        }
    }

    /// This node and every hub peer it reaches, draining ones included: what quorum counts.
    var members: [NodeID] { (peers.union([local])).sorted() }
}
