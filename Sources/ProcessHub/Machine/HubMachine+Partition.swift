import ClusterNode

/// Quorum: a hub that reaches too few nodes stops its children and refuses work until enough
/// come back (SPEC §4.5). What the registry listed is kept as a manifest, so the children still
/// wanted run again when quorum returns.
extension HubMachine {
    /// The majority is counted from `size` from the next leave or join on.
    mutating func resetQuorumCommand(_ op: OperationID, _ size: Int) {
        guard size >= 1 else {
            return effects.append(.complete(op, .failed(HubError(.invalidConfiguration, "the cluster size must be at least 1 (got \(size))"))))
        }
        guard quorum.resetClusterSize(to: size) else {
            return effects.append(.complete(op, .failed(HubError(.invalidConfiguration, "the partition strategy counts no cluster size"))))
        }
        effects.append(.complete(op, .done))
    }

    mutating func decideQuorum(left: [NodeID], joined: [NodeID]) {
        let members = self.members
        if !joined.isEmpty {
            let present = quorum.regainedQuorum(afterJoining: joined, members: members, at: now)
            shareQuorumState(with: joined)
            if isPartitioned && present { leavePartition() }
        }
        if !left.isEmpty && !isPartitioned && quorum.lostQuorum(afterLeaving: left, members: members, at: now) {
            enterPartition()
        }
    }

    /// Tells the nodes that joined what this side's policy saw (``DynamicQuorum``'s departures),
    /// so that a node back from a split counts the nodes this side lost meanwhile.
    private mutating func shareQuorumState(with joined: [NodeID]) {
        guard let state = quorum.sharedState(at: now) else { return }
        for node in joined.sorted() { send(.quorumState(state), to: node) }
    }

    /// A peer's policy state; it counts from the next leave or join on, as the peer's own does.
    mutating func quorumStateReceived(_ state: [UInt8], from peer: NodeID) {
        if !quorum.adoptShared(state, from: peer, reachable: members, at: now) {
            log(.warning, "\(local) ignored an unreadable quorum state from \(peer)")
        }
    }

    mutating func enterPartition() {
        isPartitioned = true
        for row in registry.table.rows {
            let version = registry.version(of: row.spec.id)!
            manifest[row.spec.id] = Orphan(
                draft: RegistryEntryDraft(spec: row.spec, metadata: row.metadata, epoch: version.epoch, authoredBy: version.authoredBy),
                since: now)
        }
        for (id, orphan) in orphans { manifest[id] = orphan }
        orphans = [:]
        keepUnansweredStarts()
        log(.warning, "\(local) lost quorum: stopping \(children.count) children")
        suspendLocalChildren()
        for (op, _) in operations.sorted(by: { $0.key < $1.key }) { finish(op) }
        effects.append(.hook(.partitioned))
    }

    /// Children of starts still waiting for their targets may never have started anywhere: only
    /// this node knows them, so they join the manifest and start when quorum returns.
    private mutating func keepUnansweredStarts() {
        for operation in operations.values {
            for id in operation.waiting.keys {
                guard let draft = operation.drafts[id], manifest[id] == nil, !isCoveredByStop(id, epoch: draft.epoch) else { continue }
                manifest[id] = Orphan(draft: draft, since: now)
            }
        }
    }

    /// Stops every local child for the partition; peers learn they are still wanted.
    private mutating func suspendLocalChildren() {
        stopLocally(children.keys.sorted(), .partitioned, as: .suspended)
    }

    /// Quorum is back: the manifest's children nobody runs become orphans, restarted after the
    /// grace that lets the returning nodes' snapshots arrive.
    mutating func leavePartition() {
        isPartitioned = false
        for (id, kept) in manifest where registry.version(of: id) == nil && !isCoveredByStop(id, epoch: kept.draft.epoch) {
            orphans[id] = Orphan(draft: kept.draft, since: now)
        }
        manifest = [:]
        log(.info, "\(local) has quorum again")
        effects.append(.hook(.quorumRegained))
        effects.append(.setTimer(.reconcile, after: settings.orphanGrace))
    }
}
