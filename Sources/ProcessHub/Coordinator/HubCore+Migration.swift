import ClusterNode
import Synchronization

/// Moving children: the redistribution pass every topology change runs, the consent gate and
/// its deferred list, handover on the receiving side, and the explicit moves (drain, graceful
/// stop, ``ProcessHub/migrateChild(_:to:)``).
extension HubCore {
    // MARK: Redistribution

    /// Applies this node's ``RedistributionPlan`` for `children` (all local ones by default):
    /// moves go through the consent gate (unless `askConsent` is off) and the migration strategy,
    /// then missing replicas are started and surplus instances stopped. Returns the moves made.
    @discardableResult
    func redistribute(_ children: [ChildID]? = nil, askConsent: Bool = true, cause: RedistributionEvent? = nil) async -> [ChildMove] {
        let plan = redistributionPlan(for: children ?? registry.localProcessList(on: localNode).map(\.0))
        if let cause { await announce(plan, cause: cause) }
        let moves = askConsent ? await consented(plan.moves) : plan.moves
        if !moves.isEmpty {
            metrics.migrations.increment(by: moves.count)
            await HubTracing.migrate(hub: hubID, moves: moves) { await configuration.migration.migrate(moves, using: HubMover(core: self)) }
        }
        let replicaStarts = configuration.migration.startsOwnedChildren ? [:] : plan.replicaStarts
        await withTaskGroup(of: Void.self) { group in
            for (node, share) in replicaStarts {
                let request = StartRequest(
                    originator: localNode, signature: signature, children: share, isForwarded: true, epochs: knownEpochs(of: share))
                group.addTask { _ = await self.sendStart(request, to: node, timeout: self.configuration.migrationTimeout) }
            }
        }
        if !plan.surplus.isEmpty { await HubMover(core: self).stopLocally(plan.surplus) }
        await startOwnedChildren()
        return moves
    }

    /// `pre_children_redistribution`: the local children a join or leave affects (moved, given a
    /// new replica, or stopped here), once per node that caused it.
    private func announce(_ plan: RedistributionPlan, cause: RedistributionEvent) async {
        let affected = plan.moves.map(\.data.childID) + plan.replicaStarts.values.flatMap { $0.map(\.childID) } + plan.surplus
        guard !affected.isEmpty else { return }
        let children = Array(Set(affected)).sorted()
        for node in cause.nodes {
            await hooks.dispatch(.preChildrenRedistribution, ChildrenRedistributionEvent(children: children, kind: cause.kind, node: node))
        }
    }

    /// ``Autonomous`` migration: starts the registered children this node owns that do not run
    /// here (after a topology change, and whenever a peer's snapshot completes).
    func startOwnedChildren() async {
        guard configuration.migration.startsOwnedChildren, !isStopped, !isDraining, !isPartitioned else { return }
        let ids = registry.allIDs()
        let placement = self.placement(of: ids, on: hubNodes)
        var owned: [ChildStartData] = []
        for id in ids where placement[id]?.contains(localNode) == true && !stops.isLeftover(id, epoch: knownEpoch(of: id)) {
            guard await !supervisor.isRunning(id), let info = registry.child(id) else { continue }
            owned.append(ChildStartData(childID: id, spec: info.spec, nodes: placement[id] ?? [], metadata: info.metadata))
        }
        if !owned.isEmpty { _ = await startLocally(owned, authoredBy: localNode) }
    }

    func redistributionPlan(for ids: [ChildID]) -> RedistributionPlan {
        let infos = ids.compactMap { registry.child($0) }
        guard !infos.isEmpty else { return RedistributionPlan() }
        let nodes = hubNodes
        return RedistributionPlan(
            local: localNode, children: infos, placement: placement(of: infos.map(\.spec.id), on: nodes), live: Set(nodes))
    }

    // MARK: Capturing state (old node)

    /// Seals a local child and asks it for its state (`nil` when it hands nothing over).
    func captureState(of id: ChildID) async -> HandoverPayload? {
        guard let (actorID, hooks) = await supervisor.hooks(of: id) else { return nil }
        await system.sealCalls(to: actorID)
        do {
            return try await hooks.captureState()
        } catch {
            logger.warning("child could not encode its handover state: \(error)", metadata: ["child": "\(id)"])
            return nil
        }
    }

    // MARK: Receiving handover (new node)

    /// Applies handed-over states to children just started here (before they are registered).
    func applyStates(_ states: [ChildID: HandoverPayload]) async {
        for (id, state) in states {
            guard let hooks = await supervisor.hooks(of: id)?.hooks else { continue }
            do {
                try await hooks.applyState(state)
                self.state.withLock { $0.handoversApplied += 1 }
                metrics.handovers.increment()
            } catch {
                logger.warning("handed-over state does not decode: \(error)", metadata: ["child": "\(id)"])
            }
        }
    }

    /// Holds the remote calls of children just started for a hot handover; released when their
    /// states arrive, or by the state TTL.
    func holdForHandover(_ children: [(ChildID, ActorID)]) {
        guard !children.isEmpty else { return }
        state.withLock { state in
            for (id, actorID) in children { state.heldForHandover[id] = actorID }
        }
        for (_, actorID) in children { system.holdCalls(to: actorID) }
        let ids = children.map(\.0)
        let ttl = configuration.migration.stateTTL
        Task { [weak self] in
            try? await Task.sleep(for: ttl)
            await self?.completeHandover(HandoverDelivery(childIDs: ids, states: [:]))
        }
    }

    /// Delivers states to held children and releases their calls.
    func completeHandover(_ delivery: HandoverDelivery) async {
        let held = state.withLock { state in
            delivery.childIDs.compactMap { id in state.heldForHandover.removeValue(forKey: id).map { (id, $0) } }
        }
        await applyStates(delivery.states.restricted(to: held.map(\.0)))
        for (_, actorID) in held { system.releaseCalls(to: actorID) }
    }

    // MARK: Consent

    /// The moves whose children consent now; the others join the deferred list (already deferred
    /// children stay there until the retry pass).
    private func consented(_ moves: [ChildMove]) async -> [ChildMove] {
        guard let consent = configuration.migration.consent, !moves.isEmpty else { return moves }
        let deferred = state.withLock { Set($0.deferred.keys) }
        let candidates = moves.filter { !deferred.contains($0.data.childID) }
        let answers = await askConsent(candidates.map(\.data.childID), within: consent.consentTimeout)
        let ready = candidates.filter { answers[$0.data.childID] == .ready }
        let parked = candidates.map(\.data.childID).filter { answers[$0] != .ready }
        await park(parked, retryEvery: consent.retryInterval)
        return ready
    }

    private func askConsent(_ ids: [ChildID], within timeout: Duration) async -> [ChildID: MigrationConsentReply] {
        await gather(ids, within: timeout) { id in await self.supervisor.hooks(of: id)?.hooks.consent() }
    }

    private func park(_ ids: [ChildID], retryEvery interval: Duration) async {
        guard !ids.isEmpty else { return }
        let now = ContinuousClock.now
        let startRetry = state.withLock { state -> Bool in
            for id in ids where state.deferred[id] == nil { state.deferred[id] = now }
            return state.deferRetry == nil
        }
        logger.info("\(ids.count) children deferred their migration")
        await hooks.dispatch(.migrationDeferred, MigrationDeferredEvent(childIDs: ids))
        guard startRetry else { return }
        let task = Task(executorPreference: OffLoopExecutor.shared) { [weak self] in
            while let self, !Task.isCancelled, !self.isStopped, !self.deferredIDs.isEmpty {
                try? await Task.sleep(for: interval)
                await self.retryDeferred()
            }
        }
        state.withLock { $0.deferRetry = task }
    }

    var deferredIDs: [ChildID] { state.withLock { Array($0.deferred.keys) } }

    /// Asks deferred children again: ready ones move, those past `maxDeferTime` (or all, with
    /// `force`, or those in `only`) move anyway, children that no longer need to move are dropped.
    /// Returns how many moved by force.
    @discardableResult
    func retryDeferred(force: Bool = false, only: Set<ChildID>? = nil) async -> Int {
        guard let consent = configuration.migration.consent else { return 0 }
        let now = ContinuousClock.now
        let deferred = state.withLock { $0.deferred }.filter { only?.contains($0.key) ?? true }
        let plan = redistributionPlan(for: Array(deferred.keys))
        let stillMoving = Set(plan.moves.map(\.data.childID))
        let overdue = Set(plan.moves.map(\.data.childID).filter {
            force || only != nil || now - (deferred[$0] ?? now) >= consent.maxDeferTime
        })
        let asked = plan.moves.map(\.data.childID).filter { !overdue.contains($0) }
        let answers = await askConsent(asked, within: consent.consentTimeout)
        let going = plan.moves.filter { overdue.contains($0.data.childID) || answers[$0.data.childID] == .ready }
        state.withLock { state in
            for id in deferred.keys where !stillMoving.contains(id) { state.deferred[id] = nil }
            for move in going { state.deferred[move.data.childID] = nil }
            if state.deferred.isEmpty { state.deferRetry = nil }
        }
        if !going.isEmpty { await configuration.migration.migrate(going, using: HubMover(core: self)) }
        return going.filter { overdue.contains($0.data.childID) && only == nil }.count
    }

    // MARK: Explicit moves

    /// Moves one child to `target` (``ProcessHub/migrateChild(_:to:)``), from whichever node hosts it.
    func migrateChild(_ id: ChildID, to target: NodeID) async throws(HubError) {
        guard let info = registry.child(id), let host = info.locations.first?.node else {
            throw HubError(.notFound, "no child \(id) is registered")
        }
        guard hubNodes.contains(target) else { throw HubError(.notAMember, "\(target) is not a member of hub \(hubID)") }
        if info.locations.contains(where: { $0.node == target }) {
            throw HubError(.sameNode, "\(id) already runs on \(target)")
        }
        if host == localNode { return try await moveLocalChild(info, to: target) }
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

    /// Moves a child hosted here, for a move issued on another node.
    func migrateLocalChild(_ id: ChildID, to target: NodeID) async throws(HubError) {
        guard let info = registry.child(id) else { throw HubError(.notFound, "no child \(id) is registered") }
        try await moveLocalChild(info, to: target)
    }

    /// Moves deferred children now (``ProcessHub/migrationReady(_:)``).
    func migrationReady(_ ids: Set<ChildID>) async {
        _ = await retryDeferred(only: ids)
    }

    /// Overwrites the largest cluster size ``MajorityQuorum`` has seen (the strategy holds it).
    func resetQuorumClusterSize(_ size: Int) throws(HubError) {
        guard let majority = configuration.partitionTolerance as? MajorityQuorum else {
            throw HubError(.invalidConfiguration, "hub \(hubID) does not use MajorityQuorum")
        }
        if size < 1 { throw HubError(.invalidConfiguration, "the cluster size must be at least 1 (got \(size))") }
        majority.resetLargestClusterSize(to: size)
    }

    /// Moves a child hosted here through the migration strategy and checks it arrived.
    func moveLocalChild(_ info: ChildInfo, to target: NodeID) async throws(HubError) {
        let id = info.spec.id
        guard await supervisor.isRunning(id) else { throw HubError(.notFound, "\(id) does not run on \(localNode)") }
        let data = ChildStartData(childID: id, spec: info.spec, nodes: [target], metadata: info.metadata)
        await configuration.migration.migrate([ChildMove(data: data, target: target)], using: HubMover(core: self))
        guard registry.child(id)?.locations.contains(where: { $0.node == target }) == true else {
            throw HubError(.migrateRouteFailed, "\(id) did not start on \(target)")
        }
    }

    /// Stops taking part in placement and moves every local child away: peers are told first, so
    /// they neither place new children here nor restart the moving ones.
    func beginDraining() async -> Bool {
        let peers = state.withLock { state -> [NodeID]? in
            guard !state.isDraining else { return nil }
            state.isDraining = true
            return Array(state.peers)
        }
        guard let peers else { return false }
        await forEachPeer(peers) { [localNode] in try await $0.draining(localNode) }
        return true
    }

    /// A peer drains: it no longer counts for placement, but its slots stay until it withdraws
    /// them or leaves; the redistribution pass starts replicas it held elsewhere.
    func peerDraining(_ peer: NodeID) {
        let wasMember = state.withLock { state -> Bool in
            guard state.peers.remove(peer) != nil else { return false }
            state.drainingPeers.insert(peer)
            return true
        }
        if wasMember { enqueue(.drained(peer)) }
    }

    /// Drains this node (``ProcessHub/drain(timeout:)``).
    func drain(timeout: Duration) async throws(HubError) -> DrainResult {
        if isStopped { throw HubError(.hubStopped, "hub \(hubID) is stopped") }
        try refuseIfPartitioned()
        if peers.isEmpty { throw HubError(.noTargetNodes, "no other hub node to drain to") }
        if state.withLock({ $0.isDraining }) { throw HubError(.draining, "hub \(hubID) is already draining") }
        if isLocked { throw HubError(.locked, "topology work is pending") }
        guard await beginDraining() else { throw HubError(.draining, "hub \(hubID) is already draining") }
        let initial = await supervisor.runningCount
        logger.info("draining \(initial) children")
        await redistribute()
        let deadline = ContinuousClock.now + timeout
        while !deferredIDs.isEmpty && ContinuousClock.now < deadline {
            try? await Task.sleep(for: configuration.tuning.drainPollInterval)
        }
        let forced = await retryDeferred(force: true)
        let remaining = await supervisor.runningCount
        let result = DrainResult(migrated: max(initial - remaining - forced, 0), forced: forced)
        await hooks.dispatch(.drainCompleted, DrainCompletedEvent(migrated: result.migrated, forced: result.forced))
        return result
    }
}

/// The hub operations a migration strategy orders.
///
/// A move only ever carries an instance that exists: a child is started on its target only if
/// it runs here at that moment, or this mover stopped it here for the move (``ColdSwap`` stops
/// first). A child stopped meanwhile — on purpose, by a peer's word after a split — is not
/// recreated elsewhere by a redistribution planned a moment before.
struct HubMover: ChildMover {
    let core: HubCore
    private let stoppedForMove = StoppedForMove()

    /// The children a mover stopped here, with their rows' epochs (a class: the mover is copied
    /// into the strategy).
    private final class StoppedForMove: Sendable {
        private let ids = Mutex<[ChildID: UInt64]>([:])
        func withLock<R>(_ body: (inout [ChildID: UInt64]) -> R) -> R { ids.withLock { body(&$0) } }
    }

    init(core: HubCore) {
        self.core = core
    }

    func captureStates(_ ids: [ChildID]) async -> [ChildID: HandoverPayload] {
        await gather(ids, within: core.configuration.migration.stateQueryTimeout) { id in
            await core.captureState(of: id)
        }
    }

    func stopLocally(_ ids: [ChildID]) async {
        var stopped: [ChildID] = []
        for id in ids where await core.supervisor.stop(id) { stopped.append(id) }
        let epochs = core.knownEpochs(of: stopped)
        stoppedForMove.withLock { $0.merge(epochs) { _, new in new } }
        await core.withdrawLocal(stopped)
    }

    func start(
        _ children: [ChildStartData], on node: NodeID, states: [ChildID: HandoverPayload], holdingCalls: Bool
    ) async -> [ChildID: Result<ActorID, ChildError>] {
        var results: [ChildID: Result<ActorID, ChildError>] = [:]
        var movable: [ChildStartData] = []
        let running = await core.supervisor.running(among: children.map(\.childID))
        let stoppedHere = stoppedForMove.withLock { $0 }
        for child in children {
            let id = child.childID
            let epoch = stoppedHere[id] ?? core.knownEpoch(of: id)
            if !core.stops.isLeftover(id, epoch: epoch) && (stoppedHere[id] != nil || running.contains(id)) {
                movable.append(child)
            } else {
                results[id] = .failure(ChildError(.stopped, "\(id) no longer runs on \(core.localNode): nothing to move"))
            }
        }
        guard !movable.isEmpty else { return results }
        let children = movable
        // A move keeps the row's epoch: a stop made meanwhile elsewhere still covers the moved instance.
        var request = StartRequest(
            originator: core.localNode, signature: core.signature, children: children, isForwarded: true,
            epochs: core.knownEpochs(of: children.map(\.childID)).merging(stoppedHere) { _, stopped in stopped })
        request.handoverStates = states
        request.holdsCalls = holdingCalls
        let outcomes = await core.sendStart(request, to: node, timeout: core.configuration.migrationTimeout)
        for outcome in outcomes {
            if let actorID = outcome.actorID { results[outcome.childID] = .success(actorID) }
            else if let error = outcome.error { results[outcome.childID] = .failure(error) }
        }
        keepFailedMoves(children, results: results, stoppedHere: stoppedHere)
        let delivered = states.keys.filter { (try? results[$0]?.get()) != nil }
        if !delivered.isEmpty {
            await core.hooks.dispatch(.handoverDelivered, HandoverDeliveredEvent(childIDs: delivered.sorted(), targetNode: node))
        }
        return results
    }

    /// A child stopped here for a move its target did not take (it went down, say) runs nowhere
    /// now: it becomes an orphan, started where it belongs at the next batch or reconcile.
    private func keepFailedMoves(
        _ children: [ChildStartData], results: [ChildID: Result<ActorID, ChildError>], stoppedHere: [ChildID: UInt64]
    ) {
        var lost: [ChildID: (info: ChildInfo, epoch: UInt64)] = [:]
        for child in children where (try? results[child.childID]?.get()) == nil {
            guard let epoch = stoppedHere[child.childID], !core.registry.contains(child.childID) else { continue }
            lost[child.childID] = (ChildInfo(spec: child.spec, locations: [], metadata: child.metadata), epoch)
        }
        guard !lost.isEmpty else { return }
        core.logger.info("\(lost.count) children stopped for a move their target did not take: kept as orphans")
        core.orphans.keep(lost)
    }

    func completeHandover(_ states: [ChildID: HandoverPayload], of ids: [ChildID], on node: NodeID) async {
        let delivery = HandoverDelivery(childIDs: ids, states: states)
        if node == core.localNode {
            await core.completeHandover(delivery)
        } else {
            await core.forEachPeer([node]) { try await $0.completeHandover(delivery) }
        }
        if !states.isEmpty {
            await core.hooks.dispatch(.handoverDelivered, HandoverDeliveredEvent(childIDs: states.keys.sorted(), targetNode: node))
        }
    }
}
