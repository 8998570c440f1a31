import ClusterNode

/// Placement by the start's mapping (``Guided``, ``DistributionStrategy/placesByChildMapping``):
/// the machine, not the strategy, keeps each child's nodes, so placement is part of the state it
/// replays. A child stays where its start named it, or where the registry last listed it (a move
/// changes that); a node that restarts under a new incarnation of the same endpoint gets its
/// children back; a child whose nodes are all gone has nowhere to run and is forgotten.
extension HubMachine {
    /// Each child's nodes that are hub nodes now: the registry's hosts for a registered child,
    /// else the remembered ones; at most the replication factor of them.
    func mappedPlacementOf(_ ids: [ChildID]) -> [ChildID: [NodeID]] {
        let factor = max(replicationFactor, 1)
        var placement: [ChildID: [NodeID]] = [:]
        placement.reserveCapacity(ids.count)
        for id in ids {
            let named = registry.info(of: id)?.locations.map(\.node) ?? mappedPlacement[id] ?? []
            placement[id] = Array(named.compactMap(currentNode(of:)).prefix(factor))
        }
        return placement
    }

    /// The hub node now at `node`'s endpoint (itself, or a later incarnation of it), if any.
    private func currentNode(of node: NodeID) -> NodeID? {
        if placementNodes.contains(node) { return node }
        return placementNodes.first { $0.sameEndpoint(as: node) }
    }

    /// What a start request tells the target of its children's nodes: the remembered ones, or
    /// the target alone (a move or a recovery of a child this node knows no mapping of).
    func mappedPlacement(of ids: [ChildID], startingOn target: NodeID) -> [ChildID: [NodeID]] {
        guard distribution.placesByChildMapping else { return [:] }
        return Dictionary(uniqueKeysWithValues: ids.map { ($0, mappedPlacement[$0] ?? [target]) })
    }

    /// Learns the nodes of the children a peer asks this node to start, and lets a strategy that
    /// learns from requests see them (the protocol's ``DistributionStrategy/received(_:)``).
    mutating func learnPlacement(from request: StartChildren) {
        for (id, nodes) in request.placement { mappedPlacement[id] = nodes }
        guard distribution.learnsFromStartRequests || !distribution.isDeterministic else { return }
        distribution.received(request.children.map { draft in
            ChildStartData(childID: draft.id, spec: draft.spec, nodes: request.placement[draft.id] ?? [local], metadata: draft.metadata)
        })
    }

    /// The registry's hosts of the children just registered are their nodes from now on.
    mutating func rememberMappedPlacement(of changes: [RegistryChange]) {
        for case .registered(let id, _) in changes {
            if let hosts = registry.info(of: id)?.locations.map(\.node), !hosts.isEmpty { mappedPlacement[id] = hosts }
        }
    }

    /// An orphan whose nodes are all gone: nothing may run it elsewhere.
    mutating func forgetUnplaceable(_ id: ChildID) {
        log(.warning, "\(local) forgets \(id): none of its mapped nodes is in the hub")
        orphans[id] = nil
        mappedPlacement[id] = nil
    }
}
