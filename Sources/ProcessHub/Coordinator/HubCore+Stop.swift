import ClusterNode

/// Stopping children: the originating node groups ids by the nodes the registry says host them;
/// each hosting node stops its instances, withdraws its slots and pushes that to its peers.
extension HubCore {
    // MARK: Originating node

    func stopChildren(_ ids: [ChildID], options: StopOptions) throws(HubError) -> Task<StopResult, Never> {
        if isStopped { throw HubError(.hubStopped, "hub \(hubID) is stopped") }
        try refuseIfPartitioned()
        return stopChildren(ids, timeout: options.timeout)
    }

    /// The stop itself, also for the hub's own stops (a rollback, stops made while away).
    func stopChildren(_ ids: [ChildID], timeout: Duration) -> Task<StopResult, Never> {
        var perNode: [NodeID: [ChildID]] = [:]
        var notFound: [(id: ChildID, error: ChildError)] = []
        for id in ids {
            let nodes = registry.child(id)?.locations.map(\.node) ?? []
            if nodes.isEmpty { notFound.append((id, ChildError(.notFound, "no child \(id) is registered"))) }
            for node in nodes { perNode[node, default: []].append(id) }
        }
        return Task {
            let outcomes = await withTaskGroup(of: [ChildStopOutcome].self) { group in
                for (node, ids) in perNode {
                    group.addTask { await self.sendStop(StopRequest(originator: self.localNode, childIDs: ids), to: node, timeout: timeout) }
                }
                return await group.reduce(into: []) { $0 += $1 }
            }
            return Self.stopResult(ids: ids, outcomes: outcomes, notFound: notFound)
        }
    }

    private func sendStop(_ request: StopRequest, to node: NodeID, timeout: Duration) async -> [ChildStopOutcome] {
        do {
            if node == localNode { return await handleStop(request) }
            let endpoint = try self.endpoint(of: node)
            return try await ClusterSystem.withCallTimeout(timeout) { try await endpoint.stopChildren(request) }
        } catch {
            let error = ChildError(.noResponse, "\(node) did not answer the stop: \(error)")
            return request.childIDs.map { ChildStopOutcome(childID: $0, node: node, error: error) }
        }
    }

    private static func stopResult(
        ids: [ChildID], outcomes: [ChildStopOutcome], notFound: [(id: ChildID, error: ChildError)]
    ) -> StopResult {
        let byChild = Dictionary(grouping: outcomes, by: \.childID)
        var stopped: [(id: ChildID, nodes: [NodeID])] = []
        var errors = notFound
        for id in ids {
            guard let answers = byChild[id] else { continue }
            let nodes = answers.filter { $0.error == nil }.map(\.node).sorted()
            if !nodes.isEmpty { stopped.append((id, nodes)) }
            if let failure = answers.first(where: { $0.error != nil })?.error { errors.append((id, failure)) }
        }
        return StopResult(stopped: stopped, errors: errors)
    }

    // MARK: Hosting node

    func handleStop(_ request: StopRequest) async -> [ChildStopOutcome] {
        if let refused = refuseStop(request) { return refused }
        var outcomes: [ChildStopOutcome] = []
        var stopped: [ChildID] = []
        for id in request.childIDs {
            if await supervisor.stop(id) {
                stopped.append(id)
                outcomes.append(ChildStopOutcome(childID: id, node: localNode, error: nil))
            } else {
                outcomes.append(ChildStopOutcome(childID: id, node: localNode, error: ChildError(.notFound, "\(id) does not run on \(localNode)")))
            }
        }
        await entomb(stopped)
        // Answered only once every peer has the withdrawal: if this node died right after
        // answering, a peer that still listed the child would restart it as lost.
        await withdrawLocal(stopped, confirmed: true)
        return outcomes
    }

    /// Removes this node's slots of `ids` from the registry and tells the peers; with `confirmed`,
    /// returns once every peer has been sent the change.
    func withdrawLocal(_ ids: [ChildID], confirmed: Bool = false) async {
        guard !ids.isEmpty else { return }
        metrics.stopped.increment(by: ids.count)
        forgetLocal(ids)
        await fireHooks(for: registry.unregister(ids, on: localNode))
        await propagate(.unregistered(ids), confirmToAll: confirmed)
    }

    // MARK: Supervisor events

    /// A restart gave a child a new actor id: every node must learn it.
    func childRestarted(_ id: ChildID, actorID: ActorID) async {
        metrics.restarted.increment()
        guard registry.updateActorID(of: id, on: localNode, to: actorID) else { return }
        await hooks.dispatch(.childPidUpdated, ChildActorUpdatedEvent(childID: id, node: localNode, actorID: actorID))
        await propagate(.actorUpdated(id, actorID))
    }

    /// A child ended for good here: it leaves the registry cluster-wide.
    func childGone(_ id: ChildID, reason: ChildStopReason) async {
        await entomb([id])
        await withdrawLocal([id])
    }

    /// Records a stop of `ids` on purpose as tombstones at their rows' epochs and sends them to
    /// every peer (before the withdrawal, in the same order): each peer then refuses a leftover
    /// instance wherever one turns up, even if this node is gone by then.
    func entomb(_ ids: [ChildID]) async {
        guard !ids.isEmpty else { return }
        let tombstones = Dictionary(ids.map { ($0, registry.version(of: $0)?.epoch ?? 1) }, uniquingKeysWith: max)
        stops.recordStops(tombstones)
        orphans.forget(tombstones)
        await propagate(.stopped(tombstones))
    }
}
