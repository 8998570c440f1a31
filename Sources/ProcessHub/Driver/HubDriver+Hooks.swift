import ClusterNode

/// What the driver tells hooks and metrics: the machine's ``HubEvent``s, registry changes and
/// the local supervisor's starts. Handlers run in the owner loop, in the order of the effects,
/// so a handler sees events in the order the machine made them; a payload is built only when a
/// handler listens.
extension HubDriver {
    func dispatch<P>(_ key: HookKey<P>, _ payload: @autoclosure () -> P) async {
        await hooks.dispatch(key, payload())
    }

    /// One machine event to its hooks (and counters).
    func fire(_ event: HubEvent) async {
        switch event {
        case .nodeJoined(let peer):
            await dispatch(.preNodeJoin, NodeEvent(node: peer))
            await dispatch(.postNodeJoin, NodeEvent(node: peer))
        case .nodeLeft(let peer):
            await dispatch(.preNodeLeave, NodeEvent(node: peer))
            await dispatch(.postNodeLeave, NodeEvent(node: peer))
        case .partitioned:
            logger.warning("hub \(hubID) lost its quorum: its children here are stopped until it returns")
        case .quorumRegained:
            logger.info("hub \(hubID) has its quorum again")
        case .migrated(let id, let target):
            metrics.migrations.increment()
            await dispatch(.migrationCompleted, MigrationCompletedEvent(nodes: [target], childIDs: [id]))
        case .handoverDelivered(let ids, let target):
            await dispatch(.handoverDelivered, HandoverDeliveredEvent(childIDs: ids, targetNode: target))
        case .drainCompleted(let migrated, let forced):
            await dispatch(.drainCompleted, DrainCompletedEvent(migrated: migrated, forced: forced))
        case .migrationDeferred(let ids):
            await dispatch(.migrationDeferred, MigrationDeferredEvent(childIDs: ids))
        case .replicaRoles(let roles):
            for (id, mode) in roles.sorted(by: { $0.key < $1.key }) { await supervisor.hooks(of: id)?.hooks.signal(mode) }
        case .redistribution(let kind, let nodes, let done):
            await dispatch(done ? .postRedistribution : .preRedistribution, RedistributionEvent(kind: kind, nodes: nodes))
        case .childrenForwarded(let forwards):
            await dispatch(.childrenForwarded, ChildrenForwardedEvent(forwards: forwards))
        case .childrenRedistributing(let ids, let kind, let target):
            await dispatch(.preChildrenRedistribution, ChildrenRedistributionEvent(children: ids, kind: kind, node: target))
        case .migrationBegan(let id, let count, let target):
            beginSpan(of: id, HubTracing.startMigration(hub: hubID, count: count, target: target))
        case .migrationEnded(let id):
            endSpan(of: id)
        case .shutdown:
            break  // ``stop(movingChildren:)`` fires ``HookKey/coordinatorShutdown`` once the peers were told.
        }
    }

    /// Registry changes (already on the read side) to their hooks.
    func registryChanged(_ changes: [RegistryChange]) async {
        metrics.registrySize.record(registry.count)
        guard hooks.hasHandlers(.childRegistered) || hooks.hasHandlers(.childUnregistered) else { return }
        for change in changes {
            switch change {
            case .registered(let id, let location):
                await dispatch(.childRegistered, ChildRegisteredEvent(childID: id, locations: [location]))
            case .unregistered(let id, let node):
                await dispatch(.childUnregistered, ChildUnregisteredEvent(childID: id, node: node))
            }
        }
    }

    /// The local supervisor started a batch: counted, and told to ``HookKey/postChildrenStart``.
    func childrenStarted(_ data: [ChildStartData], _ results: [Result<ActorID, ChildError>]) async {
        let started = results.reduce(0) { count, result in
            if case .success = result { return count + 1 }
            return count
        }
        if started > 0 { metrics.started.increment(by: started) }
        guard hooks.hasHandlers(.postChildrenStart) else { return }
        let children = zip(data, results).map { data, result in
            switch result {
            case .success(let actorID):
                StartedChild(childID: data.childID, spec: data.spec, actorID: actorID, nodes: data.nodes, metadata: data.metadata)
            case .failure(let error):
                StartedChild(
                    childID: data.childID, spec: data.spec, actorID: nil, error: "\(error)", nodes: data.nodes,
                    metadata: data.metadata)
            }
        }
        await dispatch(.postChildrenStart, ChildrenStartedEvent(children: children))
    }
}
