import ClusterNode

/// The local children: starting them, what the supervisor reports, and withdrawing them.
extension HubMachine {
    /// Starts `drafts` here unless they already run or start; `waiter` hears how each went.
    mutating func startLocally(
        _ drafts: [RegistryEntryDraft], waiter: Waiter?, states: [ChildID: HandoverPayload] = [:],
        holdsCalls: Bool = false
    ) {
        var launches: [ChildLaunch] = []
        for draft in drafts {
            if var existing = children[draft.id] {
                switch existing.phase {
                case .running(let actorID):
                    if let waiter { answer(waiter, draft.id, .success(actorID)) }
                case .starting:
                    if let waiter { existing.waiters.append(waiter) }
                    children[draft.id] = existing
                case .stopping:
                    // A stop was asked for (or it moves away): it cannot be started again until
                    // it has stopped.
                    if let waiter { answer(waiter, draft.id, .failure(ChildError(.startFailed, "\(draft.id) is stopping on \(local)"))) }
                }
                continue
            }
            children[draft.id] = LocalChild(draft: draft, phase: .starting, waiters: waiter.map { [$0] } ?? [])
            orphans[draft.id] = nil
            launches.append(ChildLaunch(spec: draft.spec, metadata: draft.metadata, state: states[draft.id], holdsCalls: holdsCalls))
        }
        if !launches.isEmpty { effects.append(.startChildren(launches)) }
    }

    mutating func supervisor(_ report: SupervisorReport) {
        switch report {
        case .started(let id, let actorID): childStarted(id, actorID)
        case .startDataAltered(let id, let spec, let metadata): startDataAltered(id, spec, metadata)
        case .startFailed(let id, let error): childFailed(id, error)
        case .restarted(let id, let actorID): childRestarted(id, actorID)
        case .stopped(let id): childStopped(id)
        case .ended(let id): childEnded(id)
        case .stateCaptured(let id, let state): stateCaptured(id, state)
        }
    }

    /// A child still starting is registered with the data it was started with; the id stays.
    private mutating func startDataAltered(_ id: ChildID, _ spec: ChildSpec, _ metadata: ChildMetadata) {
        guard var child = children[id], child.phase == .starting, spec.id == id else { return }
        child.draft.spec = spec
        child.draft.metadata = metadata
        children[id] = child
    }

    private mutating func childStarted(_ id: ChildID, _ actorID: ActorID) {
        guard var child = children[id], child.phase == .starting else {
            // Stopped (or withdrawn) while it was starting: the instance is not wanted. The stop
            // asked for before may have found nothing to stop yet, so it is asked again.
            if let child = children[id], case .stopping(let cause) = child.phase {
                effects.append(.stopChildren([id], cause))
            } else if children[id] == nil {
                children[id] = LocalChild(draft: RegistryEntryDraft(spec: .placeholder(id), metadata: [:], epoch: 0, authoredBy: local), phase: .stopping(.requested))
                effects.append(.stopChildren([id], .requested))
            }
            return
        }
        if hasLeft || isPartitioned || isCoveredByStop(id, epoch: child.draft.epoch) {
            child.phase = .stopping(isPartitioned ? .partitioned : .requested)
            children[id] = child
            effects.append(.stopChildren([id], isPartitioned ? .partitioned : .requested))
            child.waiters.forEach { answer($0, id, .failure(ChildError(isPartitioned ? .partitioned : .stopped, "\(id) was stopped on \(local) while it started"))) }
            return
        }
        child.phase = .running(actorID)
        let waiters = child.waiters
        child.waiters = []
        children[id] = child
        let entry = child.draft.entry(actorID: actorID)
        publish([registry.register(entry)].compactMap { $0 })
        orphans[id] = nil
        broadcast(.registered([entry]))
        startedInBatch.append(id)
        waiters.forEach { answer($0, id, .success(actorID)) }
    }

    private mutating func childFailed(_ id: ChildID, _ error: ChildError) {
        guard let child = children.removeValue(forKey: id) else { return }
        child.waiters.forEach { answer($0, id, .failure(error)) }
    }

    private mutating func childRestarted(_ id: ChildID, _ actorID: ActorID) {
        guard var child = children[id], case .running = child.phase else { return }
        child.phase = .running(actorID)
        children[id] = child
        if registry.updateActorID(of: id, on: local, to: actorID) {
            publish([.registered(id, ChildLocation(actorID))])
            broadcast(.actorUpdated(id, actorID))
        }
    }

    private mutating func childStopped(_ id: ChildID) {
        guard let child = children[id], case .stopping = child.phase else { return }
        children[id] = nil
        roles[id] = nil
        migrationChildStopped(id)
    }

    /// A child ended for good by itself: it is removed cluster-wide and remembered as stopped.
    private mutating func childEnded(_ id: ChildID) {
        guard let child = children.removeValue(forKey: id) else { return }
        roles[id] = nil
        let tombstone = rememberStop(id, epoch: child.draft.epoch)
        withdraw([id], as: .plain(tombstones: [tombstone]))
        migrationChildStopped(id)
    }

    /// Stops local instances for `cause`, withdrawing their slots cluster-wide.
    mutating func stopLocally(_ ids: [ChildID], _ cause: StopCause, as withdrawal: Withdrawal = .plain(tombstones: [])) {
        var stopping: [ChildID] = []
        for id in ids {
            guard var child = children[id] else { continue }
            if case .stopping = child.phase { continue }
            let failure = ChildError(cause == .partitioned ? .partitioned : .stopped, "\(id) was stopped on \(local) while it started")
            child.waiters.forEach { answer($0, id, .failure(failure)) }
            child.waiters = []
            child.phase = .stopping(cause)
            children[id] = child
            stopping.append(id)
        }
        if !stopping.isEmpty { effects.append(.stopChildren(stopping, cause)) }
        withdraw(stopping, as: withdrawal)
    }

    /// How peers are told that slots went: what they keep of the children depends on why.
    enum Withdrawal {
        /// Gone (with the stops that ended them, if any): peers forget what the tombstones cover.
        case plain(tombstones: [Tombstone])
        /// Quorum was lost here: still wanted, so peers keep children left without an instance.
        case suspended
        /// Moving to `target`: peers keep them until `target` registers them, in case it never does.
        case moved(to: NodeID)
    }

    /// Removes this node's slots of `ids` and tells the peers.
    mutating func withdraw(_ ids: [ChildID], as withdrawal: Withdrawal) {
        let changes = ids.compactMap { registry.unregister($0, on: local) }
        publish(changes)
        let gone = changes.map(\.childID)
        switch withdrawal {
        case .plain(let tombstones):
            if !gone.isEmpty || !tombstones.isEmpty { broadcast(.unregistered(gone, tombstones: tombstones)) }
        case .suspended:
            if !gone.isEmpty { broadcast(.suspended(gone)) }
        case .moved(let target):
            if !gone.isEmpty { broadcast(.moved(gone, to: target)) }
        }
    }

    /// Tells `waiter` how one child went.
    mutating func answer(_ waiter: Waiter, _ id: ChildID, _ result: Result<ActorID, ChildError>) {
        switch waiter {
        case .operation(let op): operationAnswered(op, id, from: local, result)
        case .inbound(let key): inboundAnswered(key, id, result)
        }
    }

    /// The running local children, sorted.
    var runningIDs: [ChildID] {
        children.compactMap { id, child in
            if case .running = child.phase { return id }
            return nil
        }.sorted()
    }
}

extension RegistryChange {
    var childID: ChildID {
        switch self {
        case .registered(let id, _), .unregistered(let id, _): id
        }
    }
}

extension ChildSpec {
    /// A spec for an instance the machine no longer knows (it only needs stopping).
    static func placeholder(_ id: ChildID) -> ChildSpec {
        ChildSpec(id: id, kind: "unknown", encodedArguments: [])
    }
}
