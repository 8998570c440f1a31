import ClusterNode

/// The registry and its synchronisation: each node writes only its own slots and pushes every
/// change to its peers (FIFO per peer); every sync interval it sends all its slots, so a peer
/// that missed a push repairs it. Stops travel with it as tombstones.
extension HubMachine {
    mutating func registered(_ entries: [RegistryEntry], by peer: NodeID) {
        guard peers.contains(peer) else { return }
        merge(entries.filter { $0.node == peer }, from: peer)
    }

    /// Merges a peer's slots, refusing leftovers of stops (and telling their host).
    private mutating func merge(_ entries: [RegistryEntry], from peer: NodeID) {
        var changes: [RegistryChange] = []
        var leftovers: [Tombstone] = []
        for entry in entries {
            if isCoveredByStop(entry.childID, epoch: entry.epoch) {
                leftovers.append(Tombstone(childID: entry.childID, epoch: tombstones[entry.childID]!.epoch))
                changes += [registry.unregister(entry.childID, on: peer)].compactMap { $0 }
                continue
            }
            if let change = registry.register(entry) { changes.append(change) }
            if let orphan = orphans[entry.childID], orphan.draft.epoch <= entry.epoch { orphans[entry.childID] = nil }
        }
        noteIfMisplaced(entries.map(\.childID))
        startMissingReplicas(among: entries.map(\.childID))
        publish(changes)
        if !leftovers.isEmpty { send(.stopChildren(requestID: 0, tombstones: leftovers), to: peer) }
    }

    mutating func unregistered(_ ids: [ChildID], _ stones: [Tombstone], by peer: NodeID) {
        guard peers.contains(peer) else { return }
        applyTombstones(stones)
        publish(ids.compactMap { registry.unregister($0, on: peer) })
    }

    /// A peer withdrew these slots but the children are still wanted (it lost quorum, or they move
    /// to `target`): a child left with no instance is kept (in the manifest while this node is
    /// partitioned too, else as an orphan, restarted if nobody registers it in time).
    mutating func withdrawn(_ ids: [ChildID], by peer: NodeID, inTransitTo target: NodeID?) {
        guard peers.contains(peer) else { return }
        for id in ids {
            guard let entry = registry.entry(of: id, ownedBy: peer) else { continue }
            publish([registry.unregister(id, on: peer)].compactMap { $0 })
            guard registry.version(of: id) == nil, children[id] == nil, !isCoveredByStop(id, epoch: entry.epoch) else { continue }
            let kept = Orphan(draft: RegistryEntryDraft(entry), since: now, inTransitTo: target)
            if isPartitioned { manifest[id] = kept } else { orphans[id] = kept }
        }
        if !isPartitioned && !orphans.isEmpty { effects.append(.setTimer(.reconcile, after: settings.orphanGrace)) }
    }

    mutating func actorUpdated(_ id: ChildID, _ actorID: ActorID, by peer: NodeID) {
        guard peers.contains(peer), actorID.node == peer else { return }
        if registry.updateActorID(of: id, on: peer, to: actorID) { publish([.registered(id, ChildLocation(actorID))]) }
    }

    /// Drops `node`'s slots without touching anything else (``HubCommand/forgetSlots(of:)``).
    mutating func forgetSlotsCommand(_ op: OperationID, of node: NodeID) {
        if node != local { publish(registry.purge(node)) }
        effects.append(.complete(op, .done))
    }

    // MARK: Snapshots

    /// Sends every local slot to `peer`, in parts; the last withdraws whatever it did not list.
    mutating func sendSnapshot(to peer: NodeID) {
        let entries = (registry.idsByNode[local] ?? []).sorted().compactMap { registry.entry(of: $0, ownedBy: local) }
        let parts = entries.isEmpty ? [[]] : entries.chunked(settings.tuning.entriesPerMessage).map(Array.init)
        let stones = tombstoneList
        // Under gossip, the snapshot says which of this node's changes it holds.
        let mark = epidemic.map { _ in gossip.lastStamped }
        for (index, part) in parts.enumerated() {
            let isLast = index == parts.count - 1
            let snapshot = SnapshotPart(entries: part, tombstones: isLast ? stones : [], isLast: isLast, lastChange: mark)
            send(.snapshot(snapshot), to: peer)
        }
    }

    mutating func snapshotReceived(_ part: SnapshotPart, from peer: NodeID) {
        guard peers.contains(peer) else { return }
        snapshotPartArrives(part, from: peer)
        let own = part.entries.filter { $0.node == peer }
        snapshotIDs[peer, default: []].formUnion(own.map(\.childID))
        merge(own, from: peer)
        guard part.isLast else { return }
        let listed = snapshotIDs.removeValue(forKey: peer) ?? []
        applyTombstones(part.tombstones)
        let absent = (registry.idsByNode[peer] ?? []).subtracting(listed).sorted()
        if epidemic != nil {
            // Gossip may have lost why these went (a move, a duplicate given up) on a link cut
            // since: a child left with no instance is kept, not forgotten.
            withdrawn(absent, by: peer, inTransitTo: nil)
        } else {
            publish(absent.compactMap { registry.unregister($0, on: peer) })
        }
        snapshotApplied(from: peer)
    }

    /// PubSub: every peer gets this node's slots. Gossip: a digest round starts here.
    mutating func syncRound() {
        effects.append(.setTimer(.syncRound, after: random.jittered(settings.syncInterval)))
        pruneTombstones()
        if let (recipients, restricted) = epidemic {
            startDigestRound(recipients: recipients, restricted: restricted)
        } else {
            for peer in peers.sorted() { sendSnapshot(to: peer) }
        }
        if !orphans.isEmpty || !isPartitioned { reconcile() }
    }

    // MARK: Duplicates

    /// Marks a local instance of `id` for the duplicate check when another node runs the child
    /// where the strategies place it and this node is not one of those places.
    mutating func noteIfMisplaced(_ id: ChildID) { noteIfMisplaced([id]) }

    /// The same for a batch, placed in one call: a batch of local starts or of peer
    /// registrations asks the strategy once, not once per child.
    mutating func noteIfMisplaced(_ ids: [ChildID]) {
        let running = ids.filter { id in
            guard let child = children[id], case .running = child.phase else { return false }
            return moving[id] == nil
        }
        guard !running.isEmpty else { return }
        let placement = placementOf(running)
        for id in running {
            let nodes = placement[id] ?? []
            guard !nodes.contains(local) else { continue }
            let placedHosts = Set(registry.info(of: id)?.locations.map(\.node) ?? []).intersection(nodes)
            guard !placedHosts.isEmpty else { continue }
            if suspectedDuplicates.isEmpty { effects.append(.setTimer(.duplicateCheck, after: settings.tuning.duplicateGrace)) }
            suspectedDuplicates.insert(id)
        }
    }

    /// Stops the local duplicates that are still duplicates after the grace.
    mutating func checkDuplicates() {
        // Placement is stale until the pending batch is applied: a departed node's copy would
        // still count. Look again once it is.
        guard pendingTopology.isEmpty else {
            return effects.append(.setTimer(.duplicateCheck, after: settings.debounce))
        }
        let suspects = suspectedDuplicates.sorted()
        suspectedDuplicates = []
        let placement = placementOf(suspects)
        // Each duplicate goes in favour of a node of its placement that runs it (its keeper).
        var byKeeper: [NodeID: [ChildID]] = [:]
        for id in suspects {
            guard let child = children[id], case .running = child.phase, moving[id] == nil else { continue }
            let nodes = placement[id] ?? []
            guard !nodes.contains(local) else { continue }
            let hosts = Set(registry.info(of: id)?.locations.map(\.node) ?? [])
            if let keeper = nodes.first(where: { hosts.contains($0) }) { byKeeper[keeper, default: []].append(id) }
        }
        for (keeper, duplicates) in byKeeper.sorted(by: { $0.key < $1.key }) {
            log(.info, "stopping \(duplicates.count) duplicate children on \(local): \(keeper) runs them")
            // Peers that cannot see the keeper (a split in the making) keep the children.
            stopLocally(duplicates, .duplicate, as: .moved(to: keeper))
        }
        // A draining node's replicas end as duplicates, not as moves: that may finish the drain.
        if !byKeeper.isEmpty { checkDrainDone() }
    }

    /// Where the strategies place `ids` on the current nodes.
    func placementOf(_ ids: [ChildID]) -> [ChildID: [NodeID]] {
        if distribution.placesByChildMapping { return mappedPlacementOf(ids) }
        return distribution.belongsTo(ids, replicationFactor: replicationFactor, nodes: placementNodes)
    }
}
