import ClusterNode

/// Replica roles (``Replication``'s active/passive model): each local instance hears its role
/// once it runs, and again whenever a topology batch moves the child's active node. Hubs whose
/// redundancy strategy signals no role skip all of it.
extension HubMachine {
    var signalsRoles: Bool { redundancy.signals(.active) || redundancy.signals(.passive) }

    /// Tells the local instances of `ids` their role on their current placement, unless they
    /// already have it.
    mutating func signalRoles(of ids: [ChildID]) {
        guard signalsRoles, !ids.isEmpty else { return }
        let placement = placementOf(ids)
        var changed: [ChildID: ReplicaMode] = [:]
        for id in ids {
            guard case .running = children[id]?.phase, let nodes = placement[id] else { continue }
            let mode = redundancy.mode(of: id, on: local, nodes: nodes)
            guard roles[id] != mode else { continue }
            roles[id] = mode
            if redundancy.signals(mode) { changed[id] = mode }
        }
        if !changed.isEmpty { effects.append(.hook(.replicaRoles(changed))) }
    }

    /// After a topology batch: every local instance's role, on the new placement.
    mutating func signalRoleChanges() {
        guard signalsRoles else { return }
        signalRoles(of: runningIDs)
    }
}
