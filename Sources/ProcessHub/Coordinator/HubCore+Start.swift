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
        let answered = await placeAgain(children, lostIn: outcomes, timeout: options.timeout)
        var result = Self.startResult(children: children, outcomes: answered)
        if options.onFailure == .rollback && !result.errors.isEmpty && !result.started.isEmpty {
            let stop = stopChildren(result.ids, timeout: options.timeout)
            _ = await stop.value
            result.rolledBack = true
        }
        return result
    }

    /// Children whose target went down before answering are placed again on the nodes of the
    /// moment (a few rounds at most): only the originator knows they were asked for, and no
    /// registry row will bring them back.
    private func placeAgain(_ children: [ChildStartData], lostIn outcomes: [ChildStartOutcome], timeout: Duration) async -> [ChildStartOutcome] {
        var outcomes = outcomes
        for _ in 0..<3 {
            let isLost = { (outcome: ChildStartOutcome) in outcome.error?.code == .noResponse && !self.isMember(outcome.node) }
            let lost = Set(outcomes.filter(isLost).map(\.childID))
            guard !lost.isEmpty else { break }
            outcomes.removeAll(where: isLost)
            var answered: [ChildID: Set<NodeID>] = [:]
            for outcome in outcomes where lost.contains(outcome.childID) { answered[outcome.childID, default: []].insert(outcome.node) }
            let placement = self.placement(of: Array(lost), on: hubNodes)
            var perNode: [NodeID: [ChildStartData]] = [:]
            for var child in children where lost.contains(child.childID) {
                child.nodes = placement[child.childID] ?? []
                for node in child.nodes where answered[child.childID]?.contains(node) != true { perNode[node, default: []].append(child) }
            }
            logger.info("placing \(lost.count) children again: their nodes went down before answering")
            outcomes += await withTaskGroup(of: [ChildStartOutcome].self) { group in
                for (node, share) in perNode {
                    let request = StartRequest(originator: localNode, signature: signature, children: share)
                    group.addTask { await self.sendStart(request, to: node, timeout: timeout) }
                }
                return await group.reduce(into: []) { $0 += $1 }
            }
        }
        return outcomes
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
            piece.epochs = request.epochs.restricted(to: chunk.map(\.childID))
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
        let (mine, forwards) = splitByPlacement(request)
        var outcomes: [ChildStartOutcome] = []
        // A restart or a move keeps the epoch it was sent with (a recovery without one, from an
        // older peer, the epoch known here), so a stop covers it and ``startLocally`` refuses it;
        // anything else is a new start, newer than every stop of the child this node knows of.
        var epochs: [ChildID: UInt64] = [:]
        for child in mine {
            let id = child.childID
            epochs[id] = request.epochs[id] ?? (request.isRecovery ? knownEpoch(of: id) : newEpoch(of: id))
        }
        stops.started(epochs.lazy.map { ($0.key, $0.value) })
        outcomes += await startLocally(
            mine, authoredBy: request.originator, states: request.handoverStates, holdingCalls: request.holdsCalls, epochs: epochs)
        if request.isForwarded { resolveDuplicates(among: mine.map(\.childID), checkingPlacement: true) }
        if !forwards.isEmpty {
            await hooks.dispatch(.childrenForwarded, ChildrenForwardedEvent(forwards: forwards.mapValues { $0.map(\.childID) }))
            outcomes += await withTaskGroup(of: [ChildStartOutcome].self) { group in
                for (node, children) in forwards {
                    let forwarded = StartRequest(
                        originator: request.originator, signature: signature, children: children, isForwarded: true,
                        epochs: request.epochs.restricted(to: children.map(\.childID)))
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
    ///
    /// Each instance is registered at `epochs[id]`, or else at the epoch this node knows of the
    /// child (a restart); one a stop covers (``StopLedger/isLeftover(_:epoch:)``) is not started.
    func startLocally(
        _ children: [ChildStartData], authoredBy author: NodeID,
        states: [ChildID: HandoverPayload] = [:], holdingCalls: Bool = false, epochs: [ChildID: UInt64] = [:]
    ) async -> [ChildStartOutcome] {
        var epochs = epochs
        for child in children where epochs[child.childID] == nil { epochs[child.childID] = knownEpoch(of: child.childID) }
        let leftovers = children.filter { stops.isLeftover($0.childID, epoch: epochs[$0.childID]!) }
        let children = leftovers.isEmpty ? children : children.filter { !stops.isLeftover($0.childID, epoch: epochs[$0.childID]!) }
        let refused = leftovers.map {
            ChildStartOutcome(childID: $0.childID, node: localNode, actorID: nil, error: ChildError(.stopped, "\($0.childID) was stopped on purpose"))
        }
        guard !children.isEmpty else { return refused }
        var outcomes = refused
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
                        spec: child.spec, metadata: child.metadata, epoch: epochs[child.childID] ?? 1, authoredBy: author,
                        actorID: actorID))
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
            orphans.resolve(entries.lazy.map { ($0.spec.id, $0.epoch) })
            await propagate(.registered(entries), confirmTo: author)
        }
        await signalStarted(started.filter { $0.actorID != nil }.map { ($0.childID, $0.nodes) })
        return outcomes
    }
}

// MARK: Epochs

extension HubCore {
    /// The epoch a restart or move of `id` keeps: the row's, or the orphan's, else the first.
    func knownEpoch(of id: ChildID) -> UInt64 {
        registry.version(of: id)?.epoch ?? orphans.epoch(of: id) ?? 1
    }

    func knownEpochs(of children: [ChildStartData]) -> [ChildID: UInt64] {
        knownEpochs(of: children.map(\.childID))
    }

    func knownEpochs(of ids: [ChildID]) -> [ChildID: UInt64] {
        Dictionary(ids.map { ($0, knownEpoch(of: $0)) }, uniquingKeysWith: max)
    }

    /// The epoch a new start of `id` authors: newer than any this node knows, stops included.
    func newEpoch(of id: ChildID) -> UInt64 {
        max(registry.version(of: id)?.epoch ?? 0, stops.tombstone(of: id) ?? 0, orphans.epoch(of: id) ?? 0) + 1
    }
}
