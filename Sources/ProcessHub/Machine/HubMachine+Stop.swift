import ClusterNode

/// Stopping children on purpose, and remembering it: a stop is a tombstone at the row version
/// it ended, told to every peer (and to returning ones), so no restart, move, heal or late
/// registration brings that version back. A later start authors a newer version.
extension HubMachine {
    mutating func stopCommand(_ op: OperationID, _ ids: [ChildID], _ options: StopCommand) {
        if hasLeft { return effects.append(.complete(op, .failed(HubError(.hubStopped, "the hub stopped on \(local)")))) }
        if isPartitioned { return effects.append(.complete(op, .failed(HubError(.partitioned, "the hub is partitioned on \(local)")))) }
        var operation = PendingOperation(awaited: options.awaited, order: ids, waiting: [:])
        var stones: [Tombstone] = []
        var hostsByPeer: [NodeID: [ChildID]] = [:]
        for id in Set(ids).sorted() {
            guard let epoch = knownEpoch(of: id) else {
                operation.errors[id] = ChildError(.notFound, "no child \(id) is registered")
                continue
            }
            stones.append(rememberStop(id, epoch: epoch))
            let remoteHosts = hosts(of: id).filter { $0 != local }
            for node in remoteHosts { hostsByPeer[node, default: []].append(id) }
            if !remoteHosts.isEmpty { operation.waiting[id] = Set(remoteHosts) }
        }
        stopLocally(stones.map(\.childID).filter { children[$0] != nil }, .requested, as: .plain(tombstones: stones))
        operations[op] = operation
        if !options.awaited { effects.append(.complete(op, .dispatched)) }
        for (peer, hosted) in hostsByPeer.sorted(by: { $0.key < $1.key }) {
            let requestID = newRequestID()
            outbound[requestID] = OutboundRequest(peer: peer, purpose: .stop(op), childIDs: hosted)
            let hostedSet = Set(hosted)
            send(.stopChildren(requestID: requestID, tombstones: stones.filter { hostedSet.contains($0.childID) }), to: peer)
        }
        effects.append(.setTimer(.operationDeadline(op), after: options.timeout))
        completeIfAnswered(op)
    }

    /// The newest row version of `id` this node knows, from any source.
    func knownEpoch(of id: ChildID) -> UInt64? {
        [registry.version(of: id)?.epoch, orphans[id]?.draft.epoch, children[id]?.draft.epoch, manifest[id]?.draft.epoch]
            .compactMap { $0 }.max()
    }

    /// The nodes whose slots of `id` the registry lists, and this node if it hosts one.
    func hosts(of id: ChildID) -> [NodeID] {
        var nodes = Set(registry.info(of: id)?.locations.map(\.node) ?? [])
        if children[id] != nil { nodes.insert(local) }
        return nodes.sorted()
    }

    mutating func stopRequested(_ requestID: UInt64, _ stones: [Tombstone], by peer: NodeID) {
        guard peers.contains(peer) || requestID == 0 else { return }
        let stopped = applyTombstones(stones)
        if requestID != 0 { send(.stopReply(requestID: requestID, stopped: stopped), to: peer) }
    }

    mutating func stopReplied(_ requestID: UInt64, _ stopped: [ChildID], by peer: NodeID) {
        guard let request = outbound[requestID], request.peer == peer, case .stop(let op) = request.purpose else { return }
        outbound[requestID] = nil
        for id in request.childIDs { operationAnswered(op, id, from: peer, .success(ActorID(node: peer, serial: 0))) }
    }

    // MARK: Tombstones

    /// Remembers a stop of `id` at `epoch` (keeping the newest) and forgets it as an orphan.
    @discardableResult
    mutating func rememberStop(_ id: ChildID, epoch: UInt64) -> Tombstone {
        let newest = max(epoch, tombstones[id]?.epoch ?? 0)
        tombstones[id] = TombstoneRecord(epoch: newest, expiresAt: now + settings.tuning.recentStopMemory)
        if let orphan = orphans[id], orphan.draft.epoch <= newest { orphans[id] = nil }
        if let kept = manifest[id], kept.draft.epoch <= newest { manifest[id] = nil }
        mappedPlacement[id] = nil
        if tombstones.count > settings.tuning.maxRememberedStops { forgetOldestStops() }
        return Tombstone(childID: id, epoch: newest)
    }

    /// Whether the instance of `id` at `epoch` is a leftover of a stop.
    func isCoveredByStop(_ id: ChildID, epoch: UInt64) -> Bool {
        guard let stone = tombstones[id] else { return false }
        return epoch <= stone.epoch
    }

    /// Learns stops from a peer: stops the local leftovers they cover. Returns those stopped.
    @discardableResult
    mutating func applyTombstones(_ stones: [Tombstone]) -> [ChildID] {
        guard !stones.isEmpty else { return [] }
        var leftovers: [ChildID] = []
        var told: [Tombstone] = []
        for stone in stones {
            rememberStop(stone.childID, epoch: stone.epoch)
            if let child = children[stone.childID], child.draft.epoch <= stone.epoch {
                leftovers.append(stone.childID)
                told.append(stone)
            }
        }
        stopLocally(leftovers, .requested, as: .plain(tombstones: told))
        return leftovers
    }

    /// The stops to tell a peer (all those remembered, bounded), newest first.
    var tombstoneList: [Tombstone] {
        tombstones.filter { $0.value.expiresAt > now }
            .sorted { ($0.value.expiresAt, $0.key) > ($1.value.expiresAt, $1.key) }
            .prefix(settings.tuning.maxRememberedStops)
            .map { Tombstone(childID: $0.key, epoch: $0.value.epoch) }
    }

    mutating func pruneTombstones() {
        tombstones = tombstones.filter { $0.value.expiresAt > now }
    }

    private mutating func forgetOldestStops() {
        let excess = tombstones.count - settings.tuning.maxRememberedStops
        guard excess > 0 else { return }
        let oldest = tombstones.sorted { ($0.value.expiresAt, $0.key) < ($1.value.expiresAt, $1.key) }.prefix(excess)
        for (id, _) in oldest { tombstones[id] = nil }
    }
}
