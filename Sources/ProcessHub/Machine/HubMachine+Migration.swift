import ClusterNode

/// Moves: children that run here but are placed elsewhere go to their new node, following the
/// migration strategy's steps (``MigrationStep``): ColdSwap is capture, stop, start with the
/// states; HotSwap is start holding calls, capture, deliver, stop. Drains and user moves are
/// the same plans.
extension HubMachine {
    /// Moves the local children whose placement no longer names this node and that no node of
    /// their placement runs yet (those are duplicates: ``noteIfMisplaced(_:)``); `joined` are the
    /// nodes of the batch that joined (moves to them are announced as a join's). With consent,
    /// the children are asked first; those asked or deferred already wait for their answers.
    mutating func rebalance(joined: Set<NodeID> = []) {
        guard !isPartitioned, !hasLeft else { return }
        let candidates = runningIDs.filter { moving[$0] == nil && !awaitsConsent($0) }
        guard !candidates.isEmpty else { return checkDrainDone() }
        let plan = movePlan(candidates)
        noteIfMisplaced(plan.misplaced)
        var asking: [ChildID] = []
        for (target, ids) in plan.moves {
            let kind: RedistributionKind = joined.contains(target) ? .nodeJoin : .nodeLeave
            effects.append(.hook(.childrenRedistributing(ids, kind, node: target)))
            if asksConsent { asking += ids } else { beginMigration(ids, to: target, operation: nil) }
        }
        askConsent(asking)
        checkDrainDone()
    }

    /// Where those of `ids` that run here, idle, have to go: the first node of their placement,
    /// when it does not name this node and none of its nodes runs them yet (by target, sorted);
    /// `misplaced` are those another node of their placement runs already.
    func movePlan(_ ids: [ChildID]) -> (moves: [(NodeID, [ChildID])], misplaced: [ChildID]) {
        let idle = ids.filter { id in
            guard case .running = children[id]?.phase else { return false }
            return moving[id] == nil
        }
        guard !idle.isEmpty else { return ([], []) }
        let placement = placementOf(idle)
        var moves: [NodeID: [ChildID]] = [:]
        var misplaced: [ChildID] = []
        for id in idle {
            guard let nodes = placement[id], let target = nodes.first, !nodes.contains(local) else { continue }
            let hosts = Set(registry.info(of: id)?.locations.map(\.node) ?? [])
            if hosts.isDisjoint(with: nodes) { moves[target, default: []].append(id) } else { misplaced.append(id) }
        }
        return (moves.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, misplaced)
    }

    mutating func migrateCommand(_ op: OperationID, _ id: ChildID, to target: NodeID) {
        let refusal: HubError? =
            if isPartitioned { HubError(.partitioned, "the hub is partitioned on \(local)") }
            else if target == local { HubError(.sameNode, "\(id) already runs on \(local)") }
            else if !peers.contains(target) || drainingPeers.contains(target) { HubError(.notAMember, "\(target) is not a hub node") }
            else if case .running = children[id]?.phase, moving[id] == nil { nil }
            else { HubError(.notFound, "\(id) does not run on \(local)") }
        if let refusal { return effects.append(.complete(op, .failed(refusal))) }
        beginMigration([id], to: target, operation: op)
    }

    /// Drains this node. Asking consent for `wait` (SPEC §4.3.7), children are asked as by any
    /// move and what still defers then moves anyway; without a wait (a graceful stop), children
    /// are not asked, and those that deferred before move at once.
    mutating func drainCommand(_ op: OperationID, askingConsentFor wait: Duration?) {
        guard !hasLeft else { return effects.append(.complete(op, .failed(HubError(.hubStopped, "the hub stopped on \(local)")))) }
        if !isDraining {
            isDraining = true
            broadcast(.draining)
            placementNodes = currentPlacementNodes()
        }
        drainOperation = op
        if let wait, settings.consent != nil, !consentWaived {
            effects.append(.setTimer(.drainConsentDeadline, after: wait))
        } else {
            waiveConsent()
        }
        rebalance()
    }

    mutating func leaveCommand(_ op: OperationID) {
        effects.append(.hook(.shutdown))
        for peer in peers.sorted() { send(.leaving, to: peer) }
        for (pending, _) in operations.sorted(by: { $0.key < $1.key }) { finish(pending) }
        for (held, _) in heldCommands { effects.append(.complete(held, .failed(HubError(.hubStopped, "the hub left \(local)")))) }
        heldCommands = []
        hasLeft = true
        let local = children.keys.sorted()
        if !local.isEmpty { effects.append(.stopChildren(local, .shutdown)) }
        for id in local { children[id]?.phase = .stopping(.shutdown) }
        publish(registry.purge(self.local))
        peers = []
        effects.append(.complete(op, .done))
    }

    mutating func checkDrainDone() {
        guard let op = drainOperation, migrations.isEmpty, runningIDs.allSatisfy({ moving[$0] != nil }) || placementNodes.isEmpty
        else { return }
        drainOperation = nil
        effects.append(.cancelTimer(.drainConsentDeadline))
        effects.append(.hook(.drainCompleted(migrated: max(drainMigrated - drainForced, 0), forced: drainForced)))
        effects.append(.complete(op, .drained(forced: drainForced)))
        drainMigrated = 0
        drainForced = 0
    }

    // MARK: Driving a plan

    mutating func beginMigration(_ ids: [ChildID], to target: NodeID, operation: OperationID?) {
        let drafts = ids.compactMap { children[$0]?.draft }
        guard !drafts.isEmpty else { return }
        let id = nextMigrationID
        nextMigrationID += 1
        for draft in drafts {
            moving[draft.id] = id
            forgetConsent(of: draft.id)
        }
        migrations[id] = Migration(
            id: id, target: target, drafts: Dictionary(uniqueKeysWithValues: drafts.map { ($0.id, $0) }),
            steps: migrationSteps, operation: operation)
        effects.append(.setTimer(.migrationDeadline(id), after: settings.migrationTimeout))
        effects.append(.hook(.migrationBegan(id, children: drafts.count, to: target)))
        advance(id)
    }

    /// Runs the plan's steps until one has to wait (a start on the target, a capture).
    private mutating func advance(_ id: UInt64) {
        while var migration = migrations[id], migration.next < migration.steps.count {
            let step = migration.steps[migration.next]
            let ids = migration.ids
            switch step {
            case .startOnTarget:
                let holds = migration.steps[migration.next...].contains(.deliverState)
                migration.next += 1
                migrations[id] = migration
                let requests = sendStart(
                    ids.compactMap { migration.drafts[$0] }, to: migration.target, purpose: .migration,
                    for: .migration(id), states: migration.states, holdsCalls: holds)
                migrations[id]?.pendingStarts = Set(requests)
                return
            case .sealOrigin:
                effects.append(.sealCalls(ids))
            case .captureState:
                migration.next += 1
                migration.capturing = Set(ids)
                migrations[id] = migration
                effects.append(.captureStates(ids))
                return
            case .deliverState:
                send(.handoverDelivery(states: migration.states, release: ids), to: migration.target)
            case .stopOrigin:
                migration.originStopped = true
                migrations[id] = migration
                stopLocally(ids, .migrated, as: .moved(to: migration.target))
                migration = migrations[id]!
            }
            migration.next += 1
            migrations[id] = migration
        }
        finishMigration(id)
    }

    /// Whether the step before `next` still waits for something.
    private func isWaiting(_ migration: Migration) -> Bool {
        !migration.pendingStarts.isEmpty || !migration.capturing.isEmpty
    }

    mutating func migrationStarted(_ id: UInt64, _ outcomes: [ChildStartOutcome]) {
        guard var migration = migrations[id] else { return }
        for outcome in outcomes where outcome.actorID == nil {
            dropFromMigration(outcome.childID, of: &migration)
        }
        migration.pendingStarts = migration.pendingStarts.filter { outbound[$0] != nil }
        migrations[id] = migration
        if migration.drafts.isEmpty { return finishMigration(id) }
        if !isWaiting(migration) { advance(id) }
    }

    /// One child's state is in; changed in place (one report per child must not copy the
    /// migration's tables).
    mutating func stateCaptured(_ id: ChildID, _ state: HandoverPayload?) {
        guard let migrationID = moving[id], migrations[migrationID]?.capturing.remove(id) != nil else { return }
        if let state { migrations[migrationID]?.states[id] = state }
        if let migration = migrations[migrationID], !isWaiting(migration) { advance(migrationID) }
    }

    /// A child stopped here: a plan it belongs to goes on without it; a consent it was asked
    /// for, or deferred, no longer matters.
    mutating func migrationChildStopped(_ id: ChildID) { forgetConsent(of: id) }

    /// A moving child that the target could not take: it stays here, or, if it no longer runs
    /// here, becomes an orphan started where it belongs.
    private mutating func dropFromMigration(_ id: ChildID, of migration: inout Migration) {
        guard let draft = migration.drafts.removeValue(forKey: id) else { return }
        migration.capturing.remove(id)
        moving[id] = nil
        if migration.originStopped {
            if !isCoveredByStop(id, epoch: draft.epoch), registry.version(of: id) == nil {
                orphans[id] = Orphan(draft: draft, since: now)
                effects.append(.setTimer(.reconcile, after: settings.orphanGrace))
            }
        } else {
            effects.append(.deliverStates([:], release: [id]))
        }
    }

    private mutating func finishMigration(_ id: UInt64) {
        guard let migration = migrations.removeValue(forKey: id) else { return }
        effects.append(.cancelTimer(.migrationDeadline(id)))
        effects.append(.hook(.migrationEnded(id)))
        for child in migration.ids {
            moving[child] = nil
            effects.append(.hook(.migrated(child, to: migration.target)))
        }
        if !migration.states.isEmpty {
            effects.append(.hook(.handoverDelivered(migration.states.keys.sorted(), to: migration.target)))
        }
        if drainOperation != nil { drainMigrated += migration.ids.count }
        if let op = migration.operation { effects.append(.complete(op, .done)) }
        checkDrainDone()
    }

    // MARK: When a plan cannot go on

    /// The start request of migration `id` will never be answered: its target went down.
    mutating func migrationTargetLost(_ id: UInt64) {
        abortMigration(id, reason: "its target went down")
    }

    /// Aborts the migrations towards nodes that left.
    mutating func migrationsLost(targets: Set<NodeID>) {
        for (id, migration) in migrations.sorted(by: { $0.key < $1.key }) where targets.contains(migration.target) {
            abortMigration(id, reason: "\(migration.target) left")
        }
    }

    mutating func migrationExpired(_ id: UInt64) {
        guard let migration = migrations[id] else { return }
        if !migration.capturing.isEmpty {
            // Children that did not hand their state over in time move without it.
            migrations[id]?.capturing = []
            advance(id)
        } else {
            abortMigration(id, reason: "a step took longer than \(settings.migrationTimeout)")
        }
    }

    private mutating func abortMigration(_ id: UInt64, reason: String) {
        guard var migration = migrations[id] else { return }
        log(.warning, "migration of \(migration.drafts.count) children to \(migration.target) aborted: \(reason)")
        if peers.contains(migration.target), migration.steps.contains(.deliverState) {
            send(.handoverDelivery(states: [:], release: migration.ids), to: migration.target)
        }
        for child in migration.ids { dropFromMigration(child, of: &migration) }
        for request in migration.pendingStarts { outbound[request] = nil }
        migrations[id] = nil
        effects.append(.cancelTimer(.migrationDeadline(id)))
        effects.append(.hook(.migrationEnded(id)))
        if let op = migration.operation {
            effects.append(.complete(op, .failed(HubError(.migrateRouteFailed, "the migration was aborted: \(reason)"))))
        }
        checkDrainDone()
    }

    // MARK: The target's side

    /// `origin` hands over: only the instances held for it take its states and are released.
    /// Another node's delivery for the same child (a duplicate that moved here too, or one that
    /// came after the hold expired) must not overwrite what the instance has served since.
    mutating func handoverDelivered(_ states: [ChildID: HandoverPayload], release: [ChildID], from origin: NodeID) {
        let mine = release.filter { held[$0]?.origin == origin }
        for id in mine { held[id] = nil }
        let local = mine.filter { children[$0] != nil }
        let hosted = Set(local)
        guard !local.isEmpty else { return }
        effects.append(.deliverStates(states.filter { hosted.contains($0.key) }, release: local))
    }

    /// `ids` hold their calls until `origin` delivers their states, its departure, or the TTL.
    /// An instance held already stays held for the node it waits for.
    mutating func hold(_ ids: [ChildID], for origin: NodeID) {
        let new = ids.filter { held[$0] == nil }
        guard !new.isEmpty else { return }
        if held.isEmpty { effects.append(.setTimer(.heldCallsExpiry, after: settings.heldCallsTTL)) }
        for id in new { held[id] = (origin, now) }
    }

    /// Releases the instances whose handover can no longer come: from `origin`, or too old.
    mutating func releaseHolds(where done: ((origin: NodeID, since: Duration)) -> Bool) {
        let released = held.filter { done($0.value) }.keys.sorted()
        guard !released.isEmpty else { return }
        for id in released { held[id] = nil }
        log(.warning, "\(released.count) children run without the state their handover did not deliver")
        effects.append(.deliverStates([:], release: released.filter { children[$0] != nil }))
    }

    mutating func releaseExpiredHolds() {
        let now = self.now, ttl = settings.heldCallsTTL
        releaseHolds { now - $0.since >= ttl }
        if let oldest = held.values.map(\.since).min() {
            effects.append(.setTimer(.heldCallsExpiry, after: max(.milliseconds(1), oldest + ttl - now)))
        }
    }
}
