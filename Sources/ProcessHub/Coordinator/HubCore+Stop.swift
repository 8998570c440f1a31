import ClusterNode

/// Stopping children: the originating node groups ids by the nodes the registry says host them;
/// each hosting node stops its instances, withdraws its slots and pushes that to its peers.
extension HubCore {
    // MARK: Originating node

    func stopChildren(_ ids: [ChildID], options: StopOptions) -> Task<StopResult, Never> {
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
                    group.addTask { await self.sendStop(StopRequest(originator: self.localNode, childIDs: ids), to: node, timeout: options.timeout) }
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
        stops.recordStops(stopped)
        await withdrawLocal(stopped)
        return outcomes
    }

    /// Removes this node's slots of `ids` from the registry and tells the peers.
    func withdrawLocal(_ ids: [ChildID]) async {
        guard !ids.isEmpty else { return }
        metrics.stopped.increment(by: ids.count)
        forgetLocal(ids)
        await fireHooks(for: registry.unregister(ids, on: localNode))
        await propagate(.unregistered(ids))
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
        stops.recordStops([id])
        await withdrawLocal([id])
    }
}
