import ClusterNode

/// ProcessHub's `promote_to_node`: a hub started on a local-only node follows the node's
/// promotion to a reachable identity.
extension HubCore {
    /// Renames this node in the registry and the supervisor the moment the node is promoted
    /// (before it listens), so no peer ever sees the local-only identity. Called once at start.
    func followPromotion() {
        system.onPromotion { [weak self] _, new in
            guard let self else { return }
            let old = registry.renameLocalNode(to: new)
            Task { await self.supervisor.renameNode(old, to: new) }
        }
    }

    /// The explicit form: fails with ``HubError/Code/notAlive`` while the node is local-only;
    /// otherwise makes sure every row names the current identity and pushes this node's slots to
    /// the hub's peers and announces the hub to the other connected nodes.
    func promote() async throws(HubError) {
        if isStopped { throw HubError(.hubStopped, "hub \(hubID) is stopped") }
        if system.isLocalOnly {
            throw HubError(.notAlive, "node \(localNode) is local-only: promote the node first")
        }
        let old = registry.renameLocalNode(to: localNode)
        await supervisor.renameNode(old, to: localNode)
        await pushSnapshot(to: peers)
        await announceToNonMembers()
    }
}

/// The legacy coordinator serves its strategies' host.
extension HubCore: StrategyHostBackend {
    var pendingTopologyWork: Int { state.withLock { $0.pendingTopologyWork } }

    func sendStrategyMessage(_ envelope: StrategyEnvelope, to peers: [NodeID]) async {
        await forEachPeer(peers) { try await $0.strategyMessage(envelope) }
    }
}
