import ClusterNode

/// Replica roles (``Replication``, active/passive): each local instance hears its role after it
/// starts and whenever a topology change moves the child's active node.
extension HubCore {
    /// Whether the redundancy strategy signals any role at all (most hubs: no, and this costs nothing).
    private var signalsRoles: Bool {
        configuration.redundancy.signals(.active) || configuration.redundancy.signals(.passive)
    }

    /// Tells children just started here their role, given the nodes they were placed on.
    func signalStarted(_ children: [(ChildID, [NodeID])]) async {
        guard signalsRoles, !children.isEmpty else { return }
        await signal(children)
    }

    /// After a topology change: recomputes every local child's role on its current placement and
    /// tells those whose role changed.
    func signalRoleChanges() async {
        guard signalsRoles else { return }
        let local = registry.localProcessList(on: localNode).map(\.0)
        guard !local.isEmpty else { return }
        let placement = self.placement(of: local, on: hubNodes)
        await signal(local.compactMap { id in placement[id].map { (id, $0) } })
    }

    /// Delivers each child's role unless it already has it.
    private func signal(_ children: [(ChildID, [NodeID])]) async {
        let redundancy = configuration.redundancy
        let changed = state.withLock { state -> [(ChildID, ReplicaMode)] in
            children.compactMap { id, nodes -> (ChildID, ReplicaMode)? in
                let mode = redundancy.mode(of: id, on: localNode, nodes: nodes)
                guard state.replicaModes[id] != mode else { return nil }
                state.replicaModes[id] = mode
                return (id, mode)
            }
        }
        for (id, mode) in changed where redundancy.signals(mode) {
            await supervisor.hooks(of: id)?.hooks.signal(mode)
        }
    }

    /// Forgets what this node tracked about children that stopped here.
    func forgetLocal(_ ids: [ChildID]) {
        guard !ids.isEmpty else { return }
        state.withLock { state in
            for id in ids {
                state.replicaModes[id] = nil
                state.deferred[id] = nil
            }
        }
    }
}
