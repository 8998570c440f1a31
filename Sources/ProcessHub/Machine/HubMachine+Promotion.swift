import ClusterNode

/// ProcessHub's `promote_to_node`: a hub started on a local-only node follows the node's
/// promotion to a reachable identity. A local-only node has no peers, so only what this node
/// holds under its own id changes: the registry's slots and authors, the local children, the
/// children it keeps to restart, and the placement nodes.
extension HubMachine {
    mutating func renamed(to new: NodeID) {
        let old = local
        guard new != old else { return }
        local = new
        registry.renameNode(old, to: new)
        placementNodes = placementNodes.map { $0 == old ? new : $0 }.sorted()
        children = children.mapValues { $0.renamed(old, to: new) }
        orphans = orphans.mapValues { $0.renamed(old, to: new) }
        manifest = manifest.mapValues { $0.renamed(old, to: new) }
        mappedPlacement = mappedPlacement.mapValues { nodes in nodes.map { $0 == old ? new : $0 } }
        log(.info, "\(old) was promoted to \(new)")
    }
}

extension RegistryEntryDraft {
    fileprivate func renamed(_ old: NodeID, to new: NodeID) -> Self {
        var draft = self
        if draft.authoredBy == old { draft.authoredBy = new }
        return draft
    }
}

extension HubMachine.LocalChild {
    fileprivate func renamed(_ old: NodeID, to new: NodeID) -> Self {
        var child = self
        child.draft = draft.renamed(old, to: new)
        if case .running(var actorID) = phase, actorID.node == old {
            actorID.node = new
            child.phase = .running(actorID)
        }
        return child
    }
}

extension HubMachine.Orphan {
    fileprivate func renamed(_ old: NodeID, to new: NodeID) -> Self {
        var orphan = self
        orphan.draft = draft.renamed(old, to: new)
        return orphan
    }
}
