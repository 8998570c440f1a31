import ClusterNode

/// Hub membership: discovering peers (announcements), batching joins and leaves, and the
/// redistribution they cause (migration on join, contraction on leave).
extension HubCore {
    // MARK: Discovery

    /// Announces this hub to every node that comes up, and turns node-down events into leaves.
    func followMembership() async {
        for await event in node.events {
            if isStopped { return }
            switch event {
            case .up(let peer):
                if !isDraining { Task { await self.announce(to: peer) } }
            case .down(let peer, _):
                if dropPeer(peer) { enqueue(.left(peer)) }
            }
        }
    }

    /// Tells `peer` this hub runs here; its answer makes it a member too, and each side then
    /// pushes the other its registry slots.
    func announce(to peer: NodeID) async {
        do {
            let endpoint = try self.endpoint(of: peer)
            let theirs = try await ClusterSystem.withCallTimeout(configuration.crossNodeRequestTimeout) {
                try await endpoint.announce(HubAnnouncement(node: self.localNode, stoppedWhileAway: self.stops.missed(by: peer)))
            }
            _ = received(theirs)
        } catch let error as ClusterError where error.code == .unknownActor {
            logger.trace("peer does not run this hub", metadata: ["peer": "\(peer)"])
        } catch {
            logger.debug("announcing the hub failed", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
    }

    /// Repairs missed announcements: connected nodes that are not members are asked again.
    func announceToNonMembers() async {
        guard !isDraining else { return }
        for peer in node.members where !isMember(peer) {
            await announce(to: peer)
        }
    }

    /// A peer announced itself (or answered our announcement): make it a member and push it
    /// our slots; answer with who we are.
    func received(_ announcement: HubAnnouncement) -> HubAnnouncement {
        let peer = announcement.node
        // What the peer stopped while this node was away is applied before the peer counts as a
        // member again, so neither the join's redistribution nor a lost-node restart revives it.
        applyStopsMadeWhileAway(announcement.stoppedWhileAway ?? [])
        let missed = stops.missed(by: peer)
        if !announcement.isDraining && peer != localNode && system.members.contains(peer), let replaced = admitPeer(peer) {
            stops.peerReturned(peer)
            // An older incarnation replaced here (its down event may come later, or never) leaves
            // in the same batch, so its children are restarted, not just purged.
            for old in replaced { enqueue(.left(old)) }
            enqueue(.joined(peer))
            Task(executorPreference: OffLoopExecutor.shared) { await self.pushSnapshot(to: [peer]) }
        }
        return HubAnnouncement(node: localNode, isDraining: isDraining, stoppedWhileAway: missed)
    }

    /// A peer's hub stopped while its node stays up.
    func peerHubLeaving(_ peer: NodeID) {
        if dropPeer(peer) { enqueue(.left(peer)) }
    }

    // MARK: Membership changes

    // A peer is admitted (or dropped) at once, so its messages are accepted (or refused) and new
    // placements count it from the first moment; the hooks and the redistribution it causes run
    // in the debounced batch.

    /// Makes `peer` a member, replacing older incarnations of its endpoint; returns those it
    /// replaced, or `nil` when `peer` is not new.
    private func admitPeer(_ peer: NodeID) -> [NodeID]? {
        let replaced = state.withLock { state -> [NodeID]? in
            guard !state.isStopped, !state.isDraining, !state.peers.contains(peer), !state.drainingPeers.contains(peer) else {
                return nil
            }
            let older = state.peers.filter { $0.sameEndpoint(as: peer) }
            state.peers.subtract(older)
            state.peers.insert(peer)
            return Array(older)
        }
        for old in replaced ?? [] { releasePeer(old) }
        return replaced
    }

    /// Removes `peer` from the members; returns whether it was one.
    private func dropPeer(_ peer: NodeID) -> Bool {
        let wasMember = state.withLock { state in
            let wasPeer = state.peers.remove(peer) != nil
            return state.drainingPeers.remove(peer) != nil || wasPeer
        }
        if wasMember {
            releasePeer(peer)
            stops.peerLeft(peer)
        }
        return wasMember
    }

    /// Lets go of what this node keeps per peer (its outbox, its gossip bookkeeping).
    private func releasePeer(_ peer: NodeID) {
        dropOutbox(of: peer)
        gossip?.forget(peer)
    }

    // MARK: Batching

    /// Adds an event to the current batch; the batch is handled after `clusterEventDebounce`
    /// without new events, and never later than the maximum wait after its first event.
    func enqueue(_ event: TopologyEvent) {
        let debounce = configuration.clusterEventDebounce
        let maxWait = configuration.tuning.topologyMaxWait(debounce: debounce)
        // The previous timer is cancelled outside the lock: cancellation runs the task's handlers
        // under its status lock, and our locks are never taken in that order.
        let replaced = state.withLock { state -> Task<Void, Never>? in
            guard !state.isStopped else { return nil }
            let now = ContinuousClock.now
            if state.pendingEvents.isEmpty {
                state.batchStartedAt = now
                state.pendingTopologyWork += 1
            }
            state.pendingEvents.append(event)
            let deadline = min(now + debounce, (state.batchStartedAt ?? now) + maxWait)
            let previous = state.flushTask
            state.flushTask = Task(executorPreference: OffLoopExecutor.shared) { [weak self] in
                try? await Task.sleep(until: deadline)
                if Task.isCancelled { return }
                await self?.flushBatch()
            }
            return previous
        }
        replaced?.cancel()
    }

    private func flushBatch() async {
        let events = state.withLock { state -> [TopologyEvent] in
            defer {
                state.pendingEvents = []
                state.batchStartedAt = nil
                state.flushTask = nil
            }
            return state.pendingEvents
        }
        guard !events.isEmpty else { return }
        await topology.run { [self] in
            await handle(events)
            state.withLock { $0.pendingTopologyWork -= 1 }
        }
    }

    /// Handles one batch: leaves first (a restarted node appears as a leave and a join), then joins.
    private func handle(_ events: [TopologyEvent]) async {
        var joined: [NodeID] = []
        var left: [NodeID] = []
        var drained: [NodeID] = []
        for event in events {
            switch event {
            case .joined(let node): joined.removeAll { $0 == node }; joined.append(node); left.removeAll { $0 == node }
            case .left(let node): left.removeAll { $0 == node }; left.append(node); joined.removeAll { $0 == node }
            case .drained(let node): drained.append(node)
            }
        }
        // Still gone, still there: a node that came back (or went again) within the window is
        // handled by the event that describes its current state.
        let leaving = left.filter { $0 != localNode && !isMember($0) }
        let joining = joined.filter { isMember($0) }
        if !leaving.isEmpty { await nodesLeft(leaving, newcomers: Set(joining)) }
        if !joining.isEmpty { await nodesJoined(joining) }
        let draining = drained.filter { !leaving.contains($0) }
        if !draining.isEmpty && !isStopped {
            await redistribute()
            await signalRoleChanges()
        }
    }

    // MARK: Join

    private func nodesJoined(_ nodes: [NodeID]) async {
        for node in nodes {
            await hooks.dispatch(.preNodeJoin, NodeEvent(node: node))
            await fireHooks(for: registry.purgeStaleIncarnations(of: node))
            logger.info("hub node joined", metadata: ["peer": "\(node)"])
        }
        await quorumAfterJoining(nodes)
        let event = RedistributionEvent(kind: .nodeJoin, nodes: nodes)
        await hooks.dispatch(.preRedistribution, event)
        let moves = await redistribute(cause: event)
        await signalRoleChanges()
        if !moves.isEmpty {
            await hooks.dispatch(.migrationCompleted, MigrationCompletedEvent(nodes: nodes, childIDs: moves.map(\.data.childID)))
        }
        await hooks.dispatch(.postRedistribution, event)
        for node in nodes { await hooks.dispatch(.postNodeJoin, NodeEvent(node: node)) }
    }

    // MARK: Leave

    private func nodesLeft(_ nodes: [NodeID], newcomers: Set<NodeID>) async {
        var orphans: [ChildID: ChildInfo] = [:]
        for node in nodes {
            await hooks.dispatch(.preNodeLeave, NodeEvent(node: node))
            for id in registry.ids(hostedOn: node) {
                if let info = registry.child(id) { orphans[id] = info }
            }
            await fireHooks(for: registry.purge(node: node))
            logger.info("hub node left", metadata: ["peer": "\(node)"])
        }
        let event = RedistributionEvent(kind: .nodeLeave, nodes: nodes)
        await hooks.dispatch(.preRedistribution, event)
        // Children with a surviving instance are the redistribution pass's (missing replicas);
        // those left with none are restarted by the survivors that now own them — unless this
        // node just lost its quorum (then nothing runs here until it returns).
        if await !quorumAfterLeaving(nodes, orphans: orphans) {
            await restartOrphans(orphans.filter { !registry.contains($0.key) }, newcomers: newcomers)
            await redistribute(cause: event)
            await signalRoleChanges()
        }
        await hooks.dispatch(.postRedistribution, event)
        for node in nodes { await hooks.dispatch(.postNodeLeave, NodeEvent(node: node)) }
    }

    /// Contraction: every survivor starts the lost children whose new placement includes it.
    ///
    /// A child whose new placement is a node that joined in the same batch (a node restarted on
    /// the same endpoint takes its old ring positions) is unknown to that node, so one survivor —
    /// the smallest node that was already a member — sends it there.
    func restartOrphans(_ orphans: [ChildID: ChildInfo], newcomers: Set<NodeID>) async {
        guard !orphans.isEmpty else { return }
        let nodes = hubNodes
        let placement = self.placement(of: Array(orphans.keys), on: nodes)
        let initiatesForNewcomers = nodes.filter { !newcomers.contains($0) }.min() == localNode
        var mine: [ChildStartData] = []
        var forNewcomers: [NodeID: [ChildStartData]] = [:]
        for (id, info) in orphans where !stops.wasRecentlyStopped(id) {
            guard let targets = placement[id] else { continue }
            let data = ChildStartData(childID: id, spec: info.spec, nodes: targets, metadata: info.metadata)
            if targets.contains(localNode) {
                if await !supervisor.isRunning(id) { mine.append(data) }
            } else if initiatesForNewcomers, let newcomer = targets.first(where: newcomers.contains) {
                forNewcomers[newcomer, default: []].append(data)
            }
        }
        if !mine.isEmpty {
            logger.info("starting \(mine.count) children of lost nodes")
            _ = await startLocally(mine, authoredBy: localNode)
        }
        for (newcomer, children) in forNewcomers {
            let request = StartRequest(originator: localNode, signature: signature, children: children, isForwarded: true, isRecovery: true)
            _ = await sendStart(request, to: newcomer, timeout: configuration.migrationTimeout)
        }
    }
}
