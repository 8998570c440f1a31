import ClusterNode

/// The hub's API on the driver: each call checks what the read side can tell at once (so a bad
/// request throws before anything happens), then sends one command to the machine and turns its
/// answer into the public result types.
extension HubDriver {
    var isLocked: Bool { summary.withLock { $0.isLocked } }
    var isPartitioned: Bool { summary.withLock { $0.isPartitioned } }
    var hubNodes: [NodeID] { summary.withLock { $0.hubNodes } }
    var peers: [NodeID] { summary.withLock { $0.peers } }
    /// The local children that deferred their move, as of the machine's last input.
    var deferredIDs: [ChildID] { summary.withLock { $0.deferredIDs } }

    /// The refusals every command shares.
    private func refuseIfUnavailable() throws(HubError) {
        if isStopped { throw HubError(.hubStopped, "hub \(hubID) is stopped") }
        if isPartitioned { throw HubError(.partitioned, "hub \(hubID) lost its quorum on \(localNode)") }
    }

    // MARK: Starts

    func startChildren(_ specs: [ChildSpec], options: StartOptions) throws(HubError) -> Task<StartResult, Never> {
        try refuseIfUnavailable()
        if specs.isEmpty { throw HubError(.noChildren, "no children to start") }
        var seen = Set<ChildID>(minimumCapacity: specs.count)
        let duplicates = specs.map(\.id).filter { !seen.insert($0).inserted }
        if !duplicates.isEmpty { throw HubError(.duplicateChildIDs, "ids appear twice in the request", childIDs: duplicates) }
        let nodes = hubNodes
        let factor = configuration.redundancy.replicationFactor(hubNodeCount: nodes.count)
        try configuration.distribution.validate(specs, options: options, context: PlacementContext(nodes: nodes, replicationFactor: factor))
        if options.checkExisting {
            let existing = registry.registered(among: specs.map(\.id))
            if !existing.isEmpty {
                throw HubError(.alreadyStarted, "\(existing.count) children are already started", childIDs: existing)
            }
        }
        let command = StartCommand(
            awaited: true, timeout: options.timeout, checkExisting: options.checkExisting, metadata: Self.metadata(of: specs, options),
            placement: configuration.distribution.placesByChildMapping ? options.childMapping ?? [:] : [:])
        return Task(executorPreference: OffLoopExecutor.shared) {
            await HubTracing.startChildren(hub: self.hubID, count: specs.count, nodes: nodes) {
                var result = Self.startResult(await self.perform(.start(specs, command)), specs: specs)
                if options.onFailure == .rollback && !result.errors.isEmpty && !result.started.isEmpty {
                    _ = await self.perform(.stop(result.ids, StopCommand(awaited: true, timeout: options.timeout)))
                    result.rolledBack = true
                }
                return result
            }
        }
    }

    /// Each child's metadata, or none at all when the options carry none (the common case
    /// costs nothing per child).
    private static func metadata(of specs: [ChildSpec], _ options: StartOptions) -> [ChildID: ChildMetadata] {
        if options.metadata.isEmpty && options.childMetadata.isEmpty { return [:] }
        return Dictionary(specs.map { ($0.id, options.metadata(for: $0.id)) }, uniquingKeysWith: { first, _ in first })
    }

    private static func startResult(_ outcome: OperationOutcome, specs: [ChildSpec]) -> StartResult {
        switch outcome {
        case .children(let outcomes):
            var result = StartResult(started: [], errors: [])
            result.started.reserveCapacity(outcomes.count)
            for outcome in outcomes {
                if let error = outcome.error {
                    result.errors.append((outcome.childID, error))
                } else {
                    result.started.append((outcome.childID, outcome.actorIDs.map { ChildLocation(node: $0.node, actorID: $0) }))
                }
            }
            return result
        case .failed(let error):
            let code: ChildError.Code = error.code == .partitioned ? .partitioned : .noResponse
            return StartResult(started: [], errors: specs.map { ($0.id, ChildError(code, error.message)) })
        case .dispatched, .done, .drained:
            return StartResult(started: [], errors: [])
        }
    }

    // MARK: Stops

    func stopChildren(_ ids: [ChildID], options: StopOptions) throws(HubError) -> Task<StopResult, Never> {
        try refuseIfUnavailable()
        return Task(executorPreference: OffLoopExecutor.shared) {
            switch await self.perform(.stop(ids, StopCommand(awaited: true, timeout: options.timeout))) {
            case .children(let outcomes):
                var result = StopResult(stopped: [], errors: [])
                for outcome in outcomes {
                    if let error = outcome.error {
                        result.errors.append((outcome.childID, error))
                    } else {
                        result.stopped.append((outcome.childID, Set(outcome.actorIDs.map(\.node)).sorted()))
                    }
                }
                return result
            case .failed(let error):
                return StopResult(stopped: [], errors: ids.map { ($0, ChildError(.noResponse, error.message)) })
            case .dispatched, .done, .drained:
                return StopResult(stopped: [], errors: [])
            }
        }
    }

    // MARK: Moves

    func drain(timeout: Duration) async throws(HubError) -> DrainResult {
        try refuseIfUnavailable()
        if peers.isEmpty { throw HubError(.noTargetNodes, "no other hub node to drain to") }
        if summary.withLock({ $0.isDraining }) { throw HubError(.draining, "hub \(hubID) is already draining") }
        if isLocked { throw HubError(.locked, "topology work is pending") }
        let initial = await supervisor.runningCount
        logger.info("draining \(initial) children")
        // Children that defer are waited for `timeout`, then moved anyway; the forced moves
        // get the migration timeout on top.
        switch await perform(.drain(askingConsentFor: timeout), timeout: timeout + configuration.migrationTimeout) {
        case .failed(let error)?: throw error
        case .drained(let forced)?:
            return DrainResult(migrated: max(initial - forced, 0), forced: forced)
        case nil:
            // What has not moved in time stays until the hub stops (which stops it).
            let left = await supervisor.runningCount
            logger.warning("the drain did not finish within \(timeout): \(left) children still here")
            return DrainResult(migrated: initial - left, forced: 0)
        default:
            return DrainResult(migrated: initial, forced: 0)
        }
    }

    func migrateChild(_ id: ChildID, to target: NodeID) async throws(HubError) {
        guard let info = registry.child(id), let host = info.locations.first?.node else {
            throw HubError(.notFound, "no child \(id) is registered")
        }
        guard hubNodes.contains(target) else { throw HubError(.notAMember, "\(target) is not a member of hub \(hubID)") }
        if info.locations.contains(where: { $0.node == target }) { throw HubError(.sameNode, "\(id) already runs on \(target)") }
        if host == localNode { return try await migrateLocalChild(id, to: target) }
        let reply: MigrateReply
        do {
            let endpoint = try control(on: host)
            let request = MigrateRequest(childID: id, target: target)
            reply = try await ClusterSystem.withCallTimeout(configuration.migrationTimeout) {
                try await endpoint.migrateChild(request)
            }
        } catch {
            throw HubError(.migrateRouteFailed, "\(host) did not move \(id): \(error)")
        }
        if let code = reply.code { throw HubError(code, reply.message) }
    }

    func migrateLocalChild(_ id: ChildID, to target: NodeID) async throws(HubError) {
        try refuseIfUnavailable()
        switch await perform(.migrate(id, to: target), timeout: configuration.migrationTimeout) {
        case .failed(let error)?: throw error
        case nil: throw HubError(.migrateRouteFailed, "\(id) did not reach \(target) within \(configuration.migrationTimeout)")
        default: return
        }
    }

    /// Moves deferred children now; returns once their moves began.
    func migrationReady(_ ids: Set<ChildID>) async {
        guard !isStopped else { return }
        _ = await perform(.migrationReady(ids))
    }

    // MARK: The rest

    /// The explicit form of following a promotion: fails with ``HubError/Code/notAlive`` while
    /// the node is local-only. The rename happened when the node was promoted
    /// (``followPromotion()``); peers get this node's slots in the snapshot every announce brings.
    func promote() async throws(HubError) {
        if isStopped { throw HubError(.hubStopped, "hub \(hubID) is stopped") }
        if system.isLocalOnly { throw HubError(.notAlive, "node \(localNode) is local-only: promote the node first") }
        if let old = renameReadSide(to: localNode) { await supervisor.renameNode(old, to: localNode) }
    }

    func status() async -> HubNodeStatus {
        HubNodeStatus(
            node: localNode, members: hubNodes, registryCount: registry.count, localCount: await supervisor.runningCount,
            isLocked: isLocked, isPartitioned: isPartitioned, handoversApplied: handoversApplied)
    }

    /// Test support: this node forgets `node`'s slots, as if their changes had never reached it.
    func forgetSlots(of node: NodeID) async {
        _ = await perform(.forgetSlots(of: node))
    }

    /// What gossip did on this node so far.
    var gossipStatistics: ChangeLedger.Statistics { summary.withLock { $0.gossip } }

    func resetQuorumClusterSize(_ size: Int) throws(HubError) {
        guard configuration.partitionTolerance is MajorityQuorum else {
            throw HubError(.invalidConfiguration, "hub \(hubID) does not use MajorityQuorum")
        }
        if size < 1 { throw HubError(.invalidConfiguration, "the cluster size must be at least 1 (got \(size))") }
        // The machine owns the count; nothing waits for its answer.
        tell(.resetQuorumSize(size))
    }
}

/// The driver serves its strategies' host: reads from the read side, messages through the
/// machine, so a strategy's message travels in order with the hub's own.
extension HubDriver: StrategyHostBackend {
    var pendingTopologyWork: Int { summary.withLock { $0.pendingTopologyWork } }

    func isMember(_ node: NodeID) -> Bool {
        node == localNode || summary.withLock { $0.hubNodes.contains(node) || $0.peers.contains(node) }
    }

    func sendStrategyMessage(_ envelope: StrategyEnvelope, to peers: [NodeID]) async {
        inbox.yield(.strategyMessage(envelope, to: peers))
    }
}
