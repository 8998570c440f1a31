import ClusterNode

/// Starting children: the originating node's side (validate, place, dispatch per node, collect)
/// and the hosting node's side (re-place if the views differ, start, register, propagate).
extension HubCore {
    // MARK: Originating node

    /// Validates, places and dispatches a batch; the returned task finishes with the result.
    func startChildren(_ specs: [ChildSpec], options: StartOptions) throws(HubError) -> Task<StartResult, Never> {
        if isStopped { throw HubError(.hubStopped, "hub \(hubID) is stopped") }
        try refuseIfPartitioned()
        if specs.isEmpty { throw HubError(.noChildren, "no children to start") }
        var seen = Set<ChildID>(minimumCapacity: specs.count)
        let duplicates = specs.map(\.id).filter { !seen.insert($0).inserted }
        if !duplicates.isEmpty {
            throw HubError(.duplicateChildIDs, "ids appear twice in the request", childIDs: duplicates)
        }
        let context = PlacementContext(nodes: hubNodes, replicationFactor: replicationFactor)
        try configuration.distribution.validate(specs, options: options, context: context)
        if options.checkExisting {
            let existing = registry.registered(among: specs.map(\.id))
            if !existing.isEmpty {
                throw HubError(.alreadyStarted, "\(existing.count) children are already started", childIDs: existing)
            }
        }
        let nodes = hubNodes
        return Task(executorPreference: OffLoopExecutor.shared) {
            await HubTracing.startChildren(hub: self.hubID, count: specs.count, nodes: nodes) {
                let children = await self.place(specs, on: nodes, options: options)
                let signature = self.configuration.distribution.signature(of: nodes)
                return await self.dispatchStart(children, signature: signature, options: options)
            }
        }
    }

    /// Places a batch slice by slice, yielding in between: a million children must not hold an
    /// event-loop thread (and so its heartbeats) for a second.
    private func place(_ specs: [ChildSpec], on nodes: [NodeID], options: StartOptions) async -> [ChildStartData] {
        var children: [ChildStartData] = []
        children.reserveCapacity(specs.count)
        for slice in specs.chunked(configuration.tuning.workSlice) {
            let placement = self.placement(of: slice.map(\.id), on: nodes)
            for spec in slice {
                children.append(ChildStartData(
                    childID: spec.id, spec: spec, nodes: placement[spec.id] ?? [], metadata: options.metadata(for: spec.id)))
            }
            await Task.yield()
        }
        return children
    }

    /// Sends each node its share (in parallel) and turns the answers into a ``StartResult``.
    private func dispatchStart(_ children: [ChildStartData], signature: UInt64, options: StartOptions) async -> StartResult {
        var perNode: [NodeID: [ChildStartData]] = [:]
        for child in children {
            for node in child.nodes { perNode[node, default: []].append(child) }
        }
        let originator = localNode
        let outcomes = await withTaskGroup(of: [ChildStartOutcome].self) { group in
            for (node, share) in perNode {
                let request = StartRequest(originator: originator, signature: signature, children: share)
                group.addTask { await self.sendStart(request, to: node, timeout: options.timeout) }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        var result = Self.startResult(children: children, outcomes: outcomes)
        if options.onFailure == .rollback && !result.errors.isEmpty && !result.started.isEmpty {
            let stop = stopChildren(result.ids, options: StopOptions(timeout: options.timeout))
            _ = await stop.value
            result.rolledBack = true
        }
        return result
    }

    /// One start request to one node (sent in chunks, one after the other); a node that fails to
    /// answer yields `noResponse` per child.
    func sendStart(_ request: StartRequest, to node: NodeID, timeout: Duration) async -> [ChildStartOutcome] {
        let perMessage = configuration.tuning.startChildrenPerMessage
        guard request.children.count > perMessage else {
            return await sendStartChunk(request, to: node, timeout: timeout)
        }
        var outcomes: [ChildStartOutcome] = []
        for chunk in request.children.chunked(perMessage) {
            var piece = request
            piece.children = Array(chunk)
            piece.handoverStates = request.handoverStates.restricted(to: chunk.map(\.childID))
            outcomes += await sendStartChunk(piece, to: node, timeout: timeout)
        }
        return outcomes
    }

    private func sendStartChunk(_ request: StartRequest, to node: NodeID, timeout: Duration) async -> [ChildStartOutcome] {
        do {
            if node == localNode { return await handleStart(request) }
            let endpoint = try self.endpoint(of: node)
            return try await ClusterSystem.withCallTimeout(timeout) { try await endpoint.startChildren(request) }.outcomes
        } catch {
            let error = ChildError(.noResponse, "\(node) did not answer the start: \(error)")
            return request.children.map { ChildStartOutcome(childID: $0.childID, node: node, actorID: nil, error: error) }
        }
    }

    static func startResult(children: [ChildStartData], outcomes: [ChildStartOutcome]) -> StartResult {
        let byChild = Dictionary(grouping: outcomes, by: \.childID)
        var started: [(id: ChildID, locations: [ChildLocation])] = []
        var errors: [(id: ChildID, error: ChildError)] = []
        for child in children {
            let answers = byChild[child.childID] ?? []
            let locations = answers.compactMap { answer in answer.actorID.map { ChildLocation(node: answer.node, actorID: $0) } }
            if let failure = answers.first(where: { $0.error != nil })?.error {
                errors.append((child.childID, failure))
            } else if locations.isEmpty {
                errors.append((child.childID, ChildError(.noResponse, "no node reported starting it")))
            }
            if !locations.isEmpty { started.append((child.childID, locations.sorted { $0.node < $1.node })) }
        }
        return StartResult(started: started, errors: errors)
    }

    // MARK: Hosting node

    /// Starts this node's share of a request; children another node should host are forwarded
    /// there and their outcomes included.
    func handleStart(_ request: StartRequest) async -> [ChildStartOutcome] {
        if let refused = refuseStart(request) { return refused }
        await hooks.dispatch(
            .preChildrenStart, ChildrenStartRequestEvent(originator: request.originator, children: request.children))
        configuration.distribution.received(request.children)
        var (mine, forwards) = splitByPlacement(request)
        var outcomes: [ChildStartOutcome] = []
        if request.isRecovery {
            let stale = mine.filter { stops.wasRecentlyStopped($0.childID) }
            mine.removeAll { stops.wasRecentlyStopped($0.childID) }
            outcomes += stale.map {
                ChildStartOutcome(childID: $0.childID, node: localNode, actorID: nil, error: ChildError(.stopped, "\($0.childID) was stopped on purpose here"))
            }
        } else {
            stops.started(mine.lazy.map(\.childID))
        }
        outcomes += await startLocally(
            mine, authoredBy: request.originator, states: request.handoverStates, holdingCalls: request.holdsCalls)
        if request.isForwarded { resolveDuplicates(among: mine.map(\.childID), checkingPlacement: true) }
        if !forwards.isEmpty {
            await hooks.dispatch(.childrenForwarded, ChildrenForwardedEvent(forwards: forwards.mapValues { $0.map(\.childID) }))
            outcomes += await withTaskGroup(of: [ChildStartOutcome].self) { group in
                for (node, children) in forwards {
                    let forwarded = StartRequest(
                        originator: request.originator, signature: signature, children: children, isForwarded: true)
                    group.addTask { await self.sendStart(forwarded, to: node, timeout: self.configuration.crossNodeRequestTimeout) }
                }
                return await group.reduce(into: []) { $0 += $1 }
            }
        }
        return outcomes
    }

    /// Keeps the children this node hosts by its own view; the rest go to the nodes its view
    /// names that the originator did not already send them to.
    private func splitByPlacement(_ request: StartRequest) -> (mine: [ChildStartData], forwards: [NodeID: [ChildStartData]]) {
        let me = localNode
        if request.isForwarded || (request.signature == signature && configuration.distribution.isDeterministic) {
            return (request.children.filter { $0.nodes.contains(me) }, [:])
        }
        let placement = self.placement(of: request.children.map(\.childID), on: hubNodes)
        var mine: [ChildStartData] = []
        var forwards: [NodeID: [ChildStartData]] = [:]
        for var child in request.children {
            let nodes = placement[child.childID] ?? []
            let original = child.nodes
            child.nodes = nodes
            if nodes.contains(me) { mine.append(child) }
            for node in nodes where node != me && !original.contains(node) {
                forwards[node, default: []].append(child)
            }
        }
        return (mine, forwards)
    }

    /// Starts children under the local supervisor, registers the successes and pushes them to peers.
    ///
    /// A migration may hand over `states`, applied before the new instances are registered, or
    /// ask to hold the new instances' calls until their states are delivered (`holdingCalls`).
    func startLocally(
        _ children: [ChildStartData], authoredBy author: NodeID,
        states: [ChildID: HandoverPayload] = [:], holdingCalls: Bool = false
    ) async -> [ChildStartOutcome] {
        guard !children.isEmpty else { return [] }
        var outcomes: [ChildStartOutcome] = []
        var started: [StartedChild] = []
        var entries: [RegistryEntry] = []
        outcomes.reserveCapacity(children.count)
        entries.reserveCapacity(children.count)
        for slice in children.chunked(configuration.tuning.workSlice) {
            var altered: [ChildStartData] = []
            altered.reserveCapacity(slice.count)
            for child in slice { altered.append(await hooks.alter(.childDataAlter, child)) }
            let results = await supervisor.start(altered)
            if holdingCalls {
                holdForHandover(zip(altered, results).compactMap { child, result in (try? result.get()).map { (child.childID, $0) } })
            }
            if !states.isEmpty { await applyStates(states.restricted(to: slice.map(\.childID))) }
            for (child, result) in zip(altered, results) {
                let actorID = try? result.get()
                let failure: ChildError? = if case .failure(let error) = result { error } else { nil }
                outcomes.append(ChildStartOutcome(childID: child.childID, node: localNode, actorID: actorID, error: failure))
                started.append(StartedChild(
                    childID: child.childID, spec: child.spec, actorID: actorID, error: failure?.description,
                    nodes: child.nodes, metadata: child.metadata))
                if let actorID {
                    entries.append(RegistryEntry(
                        spec: child.spec, metadata: child.metadata, epoch: 1, authoredBy: author, actorID: actorID))
                } else if let failure {
                    logger.warning("child failed to start: \(failure)", metadata: ["child": "\(child.childID)"])
                }
            }
            await Task.yield()
        }
        await hooks.dispatch(.postChildrenStart, ChildrenStartedEvent(children: started))
        if !entries.isEmpty {
            metrics.started.increment(by: entries.count)
            await fireHooks(for: registry.register(entries))
            await propagate(.registered(entries), confirmTo: author)
        }
        await signalStarted(started.filter { $0.actorID != nil }.map { ($0.childID, $0.nodes) })
        return outcomes
    }
}
