import ClusterNode

/// Children nobody runs: those whose every instance was lost with a node (orphans), and
/// replicas missing on their nodes. The node the strategy places an orphan on starts it; every
/// other node that knows the orphan asks that node after a grace, because the owner may never
/// have heard of the child (its registration was lost with the node that went down).
extension HubMachine {
    /// Starts the orphans placed on this node; with `ownedHereOnly` false, also asks the owners
    /// of the others that waited longer than the grace.
    mutating func recoverOrphans(ownedHereOnly: Bool) {
        guard !isPartitioned, !hasLeft, !orphans.isEmpty else { return }
        let ids = orphans.keys.sorted()
        let placement = placementOf(ids)
        var mine: [RegistryEntryDraft] = []
        var theirs: [NodeID: [RegistryEntryDraft]] = [:]
        let now = self.now, grace = settings.orphanGrace
        for id in ids {
            guard let orphan = orphans[id] else { continue }
            guard let owner = placement[id]?.first else {
                if distribution.placesByChildMapping { forgetUnplaceable(id) }
                continue
            }
            if let target = orphan.inTransitTo, peers.contains(target), now - orphan.since < grace { continue }
            if owner == local {
                mine.append(orphan.draft)
            } else if !ownedHereOnly, now - orphan.since >= grace, orphan.askedAt.map({ now - $0 >= grace }) ?? true {
                orphans[id]?.askedAt = now
                theirs[owner, default: []].append(orphan.draft)
            }
        }
        if !mine.isEmpty {
            log(.info, "\(local) restarts \(mine.count) children nobody runs")
            startLocally(mine, waiter: nil)
        }
        for (owner, drafts) in theirs.sorted(by: { $0.key < $1.key }) {
            sendStart(drafts, to: owner, purpose: .recovery, for: .recovery)
        }
    }

    /// The periodic look at what nobody runs: orphans, missing replicas, misplaced local children.
    mutating func reconcile() {
        guard !isPartitioned, !hasLeft else { return }
        // The pending batch changes placement; its flush reconciles (and arms this again).
        guard pendingTopology.isEmpty else { return effects.append(.setTimer(.reconcile, after: settings.debounce)) }
        recoverOrphans(ownedHereOnly: false)
        startMissingReplicas()
        // A strategy whose answer may change without a topology change (loads, a user's rule)
        // moves children on joins and leaves only, as ProcessHub does; the periodic look would
        // otherwise move them at every round.
        if distribution.isDeterministic { rebalance() }
        if !orphans.isEmpty { effects.append(.setTimer(.reconcile, after: settings.orphanGrace)) }
    }

    /// With replication, a child placed here that does not run here gets an instance here, as
    /// soon as the topology or the registry says so (not at the next sync round): when it has
    /// fewer instances than its placement asks for, or when another node of its placement runs it
    /// (a replica whose placement moved here). A child no node of its placement runs is a move
    /// (``rebalance(joined:)``) or an orphan instead. `ids` limits the look to those children;
    /// `nil` looks at the whole registry.
    mutating func startMissingReplicas(among ids: [ChildID]? = nil) {
        guard replicationFactor > 1, !isPartitioned, !hasLeft else { return }
        let wanted = min(replicationFactor, placementNodes.count)
        let table = registry.table
        let rows = ids.map { $0.compactMap { table.index(of: $0).map { table.rows[$0] } } } ?? table.rows
        let candidates = rows.filter { children[$0.spec.id] == nil && orphans[$0.spec.id] == nil }
        guard !candidates.isEmpty else { return }
        let placement = placementOf(candidates.map(\.spec.id))
        var missing: [RegistryEntryDraft] = []
        for row in candidates {
            let id = row.spec.id
            guard let nodes = placement[id], nodes.contains(local), let version = registry.version(of: id) else { continue }
            let hosts = Set(registry.info(of: id)?.locations.map(\.node) ?? [])
            guard !hosts.contains(local), row.slotCount < wanted || !hosts.isDisjoint(with: nodes) else { continue }
            missing.append(RegistryEntryDraft(spec: row.spec, metadata: row.metadata, epoch: version.epoch, authoredBy: version.authoredBy))
        }
        if !missing.isEmpty { startLocally(missing, waiter: nil) }
    }

    /// What the owner made of the orphans this node asked it to restart. Refused because they
    /// were stopped on purpose: this node missed that stop, and learns it now instead of at the
    /// next sync round. Failed to start (the child's own start threw, or its kind cannot start
    /// there): the owner tried, the way a start the hub does not retry fails, so this node stops
    /// asking; asking on would retry a child that cannot start forever.
    mutating func recoveryReplied(_ outcomes: [ChildStartOutcome]) {
        for outcome in outcomes {
            guard let code = outcome.error?.code, let orphan = orphans[outcome.childID] else { continue }
            switch code {
            case .stopped:
                rememberStop(outcome.childID, epoch: orphan.draft.epoch)
            case .startFailed, .unknownKind, .invalidArguments:
                log(.warning, "\(local) gives up on \(outcome.childID): its restart failed on the owner")
                orphans[outcome.childID] = nil
            case .noResponse, .notFound, .partitioned:
                break
            }
        }
    }
}
