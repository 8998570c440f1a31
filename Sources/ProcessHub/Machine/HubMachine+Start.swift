import ClusterNode

/// Starting children: the API's start, start requests from peers, their answers, and placing
/// a start again when its target went down before it answered.
extension HubMachine {
    mutating func startCommand(_ op: OperationID, _ specs: [ChildSpec], _ options: StartCommand) {
        if let refusal = refusal(ofStart: specs, options) {
            effects.append(.complete(op, .failed(refusal)))
            return
        }
        let drafts = specs.map { spec in
            RegistryEntryDraft(
                spec: spec, metadata: options.metadata[spec.id] ?? [:], epoch: nextEpoch(of: spec.id), authoredBy: local)
        }
        operations[op] = PendingOperation(
            awaited: options.awaited, order: specs.map(\.id), waiting: [:],
            drafts: Dictionary(uniqueKeysWithValues: drafts.map { ($0.id, $0) }))
        for (id, nodes) in options.placement { mappedPlacement[id] = nodes }
        if !options.awaited { effects.append(.complete(op, .dispatched)) }
        effects.append(.setTimer(.operationDeadline(op), after: options.timeout))
        dispatch(drafts, for: op)
        completeIfAnswered(op)
    }

    /// The configuration's static children: those nothing runs (or was stopped on purpose) start
    /// as a start nobody awaits; a hub without quorum keeps them in its manifest.
    mutating func startStaticCommand(_ op: OperationID, _ specs: [ChildSpec]) {
        let missing = specs.filter { !knowsOf($0.id) && tombstones[$0.id] == nil }
        guard !missing.isEmpty, !hasLeft else { return effects.append(.complete(op, .done)) }
        guard !isPartitioned else {
            for spec in missing {
                manifest[spec.id] = Orphan(
                    draft: RegistryEntryDraft(spec: spec, metadata: [:], epoch: nextEpoch(of: spec.id), authoredBy: local), since: now)
            }
            return effects.append(.complete(op, .done))
        }
        startCommand(op, missing, StartCommand(awaited: false, checkExisting: false))
    }

    /// Why a start must be refused as a whole, if it must.
    private func refusal(ofStart specs: [ChildSpec], _ options: StartCommand) -> HubError? {
        if hasLeft { return HubError(.hubStopped, "the hub stopped on \(local)") }
        if isPartitioned { return HubError(.partitioned, "the hub is partitioned on \(local)") }
        if isDraining { return HubError(.draining, "\(local) drains") }
        if specs.isEmpty { return HubError(.noChildren, "no children to start") }
        let ids = specs.map(\.id)
        if Set(ids).count != ids.count { return HubError(.duplicateChildIDs, "a child id appears twice in the batch") }
        if options.checkExisting {
            let existing = ids.filter { registry.version(of: $0) != nil || children[$0] != nil }
            if !existing.isEmpty {
                return HubError(.alreadyStarted, "\(existing.count) children are already started", childIDs: existing)
            }
        }
        return nil
    }

    /// A row version newer than any this node knows for `id`, stops included: a new start.
    private func nextEpoch(of id: ChildID) -> UInt64 {
        let known = [registry.version(of: id)?.epoch, tombstones[id]?.epoch, orphans[id]?.draft.epoch, children[id]?.draft.epoch]
        return (known.compactMap { $0 }.max() ?? 0) + 1
    }

    /// Places `drafts` on the current nodes and sends each node its share.
    mutating func dispatch(_ drafts: [RegistryEntryDraft], for op: OperationID) {
        let placement = placementOf(drafts.map(\.id))
        var shares: [NodeID: [RegistryEntryDraft]] = [:]
        for draft in drafts {
            let nodes = placement[draft.id] ?? []
            operations[op]?.attempts[draft.id, default: 0] += 1
            if nodes.isEmpty {
                operations[op]?.errors[draft.id] = ChildError(.noResponse, "no hub node can host \(draft.id)")
                continue
            }
            operations[op]?.waiting[draft.id, default: []].formUnion(nodes)
            for node in nodes { shares[node, default: []].append(draft) }
        }
        for (node, share) in shares.sorted(by: { $0.key < $1.key }) {
            if node == local {
                startLocally(share, waiter: .operation(op))
            } else {
                sendStart(share, to: node, purpose: .user, for: .start(op))
            }
        }
    }

    /// Sends a start request in chunks, each tracked until answered.
    @discardableResult
    mutating func sendStart(
        _ drafts: [RegistryEntryDraft], to node: NodeID, purpose: StartPurpose, for request: OutboundRequest.Purpose,
        states: [ChildID: HandoverPayload] = [:], holdsCalls: Bool = false
    ) -> [UInt64] {
        drafts.chunked(settings.tuning.startChildrenPerMessage).map { chunk in
            let requestID = newRequestID()
            outbound[requestID] = OutboundRequest(peer: node, purpose: request, childIDs: chunk.map(\.id))
            var chunkStates: [ChildID: HandoverPayload] = [:]
            for draft in chunk { chunkStates[draft.id] = states[draft.id] }
            send(.startChildren(StartChildren(
                requestID: requestID, purpose: purpose, children: Array(chunk), states: chunkStates, holdsCalls: holdsCalls,
                placement: mappedPlacement(of: chunk.map(\.id), startingOn: node),
                knownChanges: epidemic.map { _ in gossip.applied[node, default: 0] })),
                to: node)
            return requestID
        }
    }

    var replicationFactor: Int { redundancy.replicationFactor(hubNodeCount: placementNodes.count) }

    // MARK: A peer asks this node to start children

    mutating func startRequested(_ request: StartChildren, by peer: NodeID) {
        guard peers.contains(peer) else { return }
        learnPlacement(from: request)
        let key = InboundKey(peer: peer, requestID: request.requestID)
        inbound[key] = InboundStart(remaining: Set(request.children.map(\.id)), knownChanges: request.knownChanges)
        var accepted: [RegistryEntryDraft] = []
        for draft in request.children {
            if let error = refusal(ofStart: draft, request.purpose) {
                inboundAnswered(key, draft.id, .failure(error))
            } else {
                accepted.append(draft)
            }
        }
        accepted = forwardMisplaced(accepted, of: request, key)
        // Only instances launched for this request hold their calls: one that already runs or
        // starts here (a duplicate's, or another move's) was not started holding.
        let launched = accepted.filter { children[$0.id] == nil }.map(\.id)
        startLocally(accepted, waiter: .inbound(key), states: request.states, holdsCalls: request.holdsCalls)
        if request.holdsCalls { hold(launched, for: peer) }
    }

    /// Why this node refuses to start `draft` for a peer, if it does.
    private func refusal(ofStart draft: RegistryEntryDraft, _ purpose: StartPurpose) -> ChildError? {
        if hasLeft || isDraining { return ChildError(.noResponse, "\(local) is leaving the hub") }
        if isPartitioned { return ChildError(.partitioned, "\(local) is partitioned") }
        if isCoveredByStop(draft.id, epoch: draft.epoch) { return ChildError(.stopped, "\(draft.id) was stopped on purpose") }
        return nil
    }

    /// One child of a peer's request has its outcome; the last one sends the reply. The request
    /// is changed in place (never copied out and back): one answer per child must cost O(1),
    /// not a copy of the request's tables.
    mutating func inboundAnswered(_ key: InboundKey, _ id: ChildID, _ result: Result<ActorID, ChildError>) {
        guard inbound[key]?.remaining.remove(id) != nil else { return }
        switch result {
        case .success(let actorID): inbound[key]?.outcomes.append(ChildStartOutcome(childID: id, node: local, actorID: actorID))
        case .failure(let error): inbound[key]?.outcomes.append(ChildStartOutcome(childID: id, node: local, error: error))
        }
        guard inbound[key]?.remaining.isEmpty == true, let request = inbound.removeValue(forKey: key) else { return }
        if peers.contains(key.peer) {
            if let known = request.knownChanges { bringUpToDate(key.peer, from: known) }
            send(.startReply(requestID: key.requestID, outcomes: request.outcomes), to: key.peer)
        }
    }

    // MARK: Answers to this node's start requests

    mutating func startReplied(_ requestID: UInt64, _ outcomes: [ChildStartOutcome], by peer: NodeID) {
        guard let request = outbound[requestID], request.peer == peer else { return }
        outbound[requestID] = nil
        switch request.purpose {
        case .start(let op):
            for outcome in outcomes {
                if let error = outcome.error, isPassing(error), scheduleRetry(outcome.childID, of: op, from: peer) { continue }
                let result: Result<ActorID, ChildError> = outcome.actorID.map { .success($0) }
                    ?? .failure(outcome.error ?? ChildError(.startFailed, "no outcome"))
                operationAnswered(op, outcome.childID, from: peer, result)
            }
        case .migration(let id):
            migrationStarted(id, outcomes)
        case .recovery:
            recoveryReplied(outcomes)
        case .forward(let key):
            forwardReplied(outcomes, for: key)
        case .stop:
            break
        }
    }

    /// One child of `op` answered from `node`; changed in place, as ``inboundAnswered(_:_:_:)``.
    mutating func operationAnswered(_ op: OperationID, _ id: ChildID, from node: NodeID, _ result: Result<ActorID, ChildError>) {
        guard operations[op]?.waiting[id]?.remove(node) != nil else { return }
        switch result {
        case .success(let actorID): operations[op]?.actorIDs[id, default: []].append(actorID)
        case .failure(let error): operations[op]?.errors[id] = error
        }
        if operations[op]?.waiting[id]?.isEmpty == true { operations[op]?.waiting[id] = nil }
        if operations[op]?.waiting.isEmpty == true { finish(op) }
    }

    mutating func completeIfAnswered(_ op: OperationID) {
        guard let operation = operations[op], operation.waiting.isEmpty else { return }
        finish(op)
    }

    /// Answers `op` with what it has; children still waiting fail with `noResponse`.
    mutating func finish(_ op: OperationID) {
        guard let operation = operations.removeValue(forKey: op) else { return }
        effects.append(.cancelTimer(.operationDeadline(op)))
        guard operation.awaited else { return }
        let outcomes = operation.order.map { id in
            if let error = operation.errors[id] { return ChildOutcome(childID: id, actorIDs: operation.actorIDs[id] ?? [], error: error) }
            if operation.waiting[id] != nil {
                return ChildOutcome(childID: id, actorIDs: operation.actorIDs[id] ?? [], error: ChildError(.noResponse, "no answer for \(id) in time"))
            }
            return ChildOutcome(childID: id, actorIDs: (operation.actorIDs[id] ?? []).sorted { $0.node < $1.node })
        }
        effects.append(.complete(op, .children(outcomes)))
    }

    mutating func operationExpired(_ op: OperationID) { finish(op) }

    // MARK: A start's target went down before it answered

    /// Places again, on the nodes of the new batch, the children of start requests `gone` did
    /// not answer: they may never have started, and the requester is the only one who knows them.
    mutating func redispatchStarts(to gone: Set<NodeID>) {
        let lost = outbound.filter { gone.contains($0.value.peer) }.sorted { $0.key < $1.key }
        for (requestID, request) in lost {
            outbound[requestID] = nil
            switch request.purpose {
            case .start(let op): redispatch(request.childIDs, of: op, from: request.peer)
            case .migration(let id): migrationTargetLost(id)
            case .stop(let op):
                // The host's instances went with it, and every peer holds the stop's tombstone, so
                // nothing restarts them: the stop is done.
                for id in request.childIDs { operationAnswered(op, id, from: request.peer, .success(ActorID(node: request.peer, serial: 0))) }
            case .forward(let key):
                for id in request.childIDs { inboundAnswered(key, id, .failure(ChildError(.noResponse, "\(request.peer) went down before it started \(id)"))) }
            case .recovery: break
            }
        }
        for key in inbound.keys where gone.contains(key.peer) { inbound[key] = nil }
    }

    private mutating func redispatch(_ ids: [ChildID], of op: OperationID, from node: NodeID) {
        guard var operation = operations[op] else { return }
        var again: [RegistryEntryDraft] = []
        for id in ids where operation.waiting[id]?.remove(node) != nil {
            if operation.waiting[id]?.isEmpty == true { operation.waiting[id] = nil }
            guard let draft = operation.drafts[id], !isCoveredByStop(id, epoch: draft.epoch) else { continue }
            if (operation.attempts[id] ?? 0) >= settings.maxStartAttempts {
                operation.errors[id] = ChildError(.noResponse, "every node \(id) was placed on went down")
            } else {
                again.append(draft)
            }
        }
        operations[op] = operation
        if !again.isEmpty && !isPartitioned { dispatch(again, for: op) }
        completeIfAnswered(op)
    }

    // MARK: Refusals that pass

    /// A target that is partitioned or leaving refuses now, but the child is still to start:
    /// its quorum may be back in a moment, or another node takes it.
    private func isPassing(_ error: ChildError) -> Bool {
        error.code == .partitioned || error.code == .noResponse
    }

    /// Keeps `id` of `op` for a retry unless it was placed too often; returns whether it did.
    private mutating func scheduleRetry(_ id: ChildID, of op: OperationID, from node: NodeID) -> Bool {
        let attempts = operations[op]?.attempts[id] ?? 0
        guard attempts < settings.maxStartAttempts, operations[op]?.waiting[id]?.remove(node) != nil else { return false }
        if operations[op]?.waiting[id]?.isEmpty == true { operations[op]?.waiting[id] = nil }
        if operations[op]?.retrying.isEmpty == true { effects.append(.setTimer(.startRetry(op), after: settings.orphanGrace / 4)) }
        operations[op]?.retrying.insert(id)
        operations[op]?.waiting[id, default: []].insert(local)
        return true
    }

    mutating func retryStart(_ op: OperationID) {
        guard var operation = operations[op], !operation.retrying.isEmpty else { return }
        if isPartitioned || !pendingTopology.isEmpty {
            return effects.append(.setTimer(.startRetry(op), after: settings.orphanGrace / 4))
        }
        let ids = operation.retrying.sorted()
        operation.retrying = []
        for id in ids {
            operation.waiting[id]?.remove(local)
            if operation.waiting[id]?.isEmpty == true { operation.waiting[id] = nil }
        }
        operations[op] = operation
        let drafts = ids.compactMap { operation.drafts[$0] }.filter { !isCoveredByStop($0.id, epoch: $0.epoch) }
        dispatch(drafts, for: op)
        completeIfAnswered(op)
    }
}
