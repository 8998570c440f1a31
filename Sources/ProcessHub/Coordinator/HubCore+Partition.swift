import ClusterNode
import Synchronization

/// Partition tolerance (SPEC §4.5) and healing: the partitioned state a quorum strategy puts the
/// hub in, the recovery when quorum returns, and the resolution of duplicate instances that two
/// sides of a split both started.
///
/// Partitioned, the hub stops its local children, withdraws their slots (no dead actor id is
/// looked up here or pushed to peers) and keeps the rows in ``PartitionState`` as the restart
/// manifest; start and stop requests are refused. When quorum returns, it restarts the manifest's
/// children its distribution strategy places on it, and sends those placed on nodes that joined
/// in the same batch there when no node lists them (ProcessHub restarts its distributed
/// supervisor, which re-reads the registry's rows bound to the node).
extension HubCore {
    /// Whether the partition-tolerance strategy has stopped this hub's children.
    var isPartitioned: Bool { partition.isPartitioned }

    /// Every hub node this one reaches, itself included (draining peers too: they are there).
    var quorumMembers: [NodeID] {
        state.withLock { Array($0.peers.union($0.drainingPeers)) + [localNode] }.sorted()
    }

    /// Throws ``HubError/Code/partitioned`` while the hub is partitioned.
    func refuseIfPartitioned() throws(HubError) {
        if isPartitioned { throw HubError(.partitioned, "hub \(hubID) on \(localNode) has lost its quorum") }
    }

    private var partitionedChildError: ChildError {
        ChildError(.partitioned, "hub \(hubID) on \(localNode) has lost its quorum")
    }

    // MARK: Quorum decisions

    /// At start, once the connected nodes answered: the strategy may start the hub partitioned
    /// (``StaticQuorum/startupConfirm``); the static children then wait in the manifest.
    func confirmStartupQuorum() async {
        guard configuration.partitionTolerance.startsWithoutQuorum(members: quorumMembers) else { return }
        let statics = configuration.childSpecs.map { ChildInfo(spec: $0, locations: [], metadata: [:]) }
        await enterPartition(keeping: Dictionary(statics.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }))
    }

    /// After a batch of leaves (the departed nodes' slots already purged): asks the strategy, and
    /// enters the partitioned state when quorum is lost. Returns whether the hub is partitioned,
    /// in which case the caller restarts nothing.
    func quorumAfterLeaving(_ nodes: [NodeID], orphans: [ChildID: ChildInfo]) async -> Bool {
        let lost = configuration.partitionTolerance.lostQuorum(afterLeaving: nodes, members: quorumMembers)
        guard lost || isPartitioned else { return false }
        // The lost nodes' children have no row left (a row goes with its last instance): they
        // join the manifest from the rows read before the purge.
        await enterPartition(keeping: registry.dump().merging(orphans) { current, _ in current })
        return true
    }

    /// After a batch of joins: asks the strategy (which also updates its state), and recovers when
    /// the hub was partitioned and quorum is present again.
    func quorumAfterJoining(_ nodes: [NodeID]) async {
        let present = configuration.partitionTolerance.regainedQuorum(afterJoining: nodes, members: quorumMembers)
        guard present, let manifest = partition.leave() else { return }
        logger.notice("quorum regained: restarting this node's children", metadata: ["members": "\(quorumMembers.count)"])
        // This node's share restarts whatever the registry says (a peer's copy of it, if any, is
        // stopped by the redistribution that follows); another node's share only when nobody
        // lists it, so children the other side stopped meanwhile stay stopped.
        let placement = self.placement(of: Array(manifest.keys), on: hubNodes)
        let restart = manifest.filter { id, _ in placement[id]?.contains(localNode) == true || !registry.contains(id) }
        await restartOrphans(restart, newcomers: Set(nodes))
    }

    /// Stops every local child and withdraws its slot; the rows stay in the manifest.
    private func enterPartition(keeping rows: [ChildID: ChildInfo]) async {
        guard partition.enter(keeping: rows) else { return }
        let running = await supervisor.runningIDs
        logger.warning(
            "quorum lost: stopping \(running.count) local children until it returns",
            metadata: ["members": "\(quorumMembers.count)"])
        await withTaskGroup(of: Void.self) { group in
            for id in running { group.addTask { await self.supervisor.stop(id) } }
        }
        await withdrawLocal(Array(Set(running).union(registry.ids(hostedOn: localNode))))
    }

    // MARK: Requests while partitioned

    /// A start request reaching a partitioned hub: every child fails with
    /// ``ChildError/Code/partitioned``. Children a peer hands over (moves, forwards) join the
    /// manifest, so they start here when quorum returns instead of being lost.
    func refuseStart(_ request: StartRequest) -> [ChildStartOutcome]? {
        guard isPartitioned else { return nil }
        if request.isForwarded {
            let rows = request.children.map { ChildInfo(spec: $0.spec, locations: [], metadata: $0.metadata) }
            partition.remember(Dictionary(rows.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last }))
        }
        let error = partitionedChildError
        return request.children.map { ChildStartOutcome(childID: $0.childID, node: localNode, actorID: nil, error: error) }
    }

    /// A stop request reaching a partitioned hub: every child fails with ``ChildError/Code/partitioned``.
    func refuseStop(_ request: StopRequest) -> [ChildStopOutcome]? {
        guard isPartitioned else { return nil }
        let error = partitionedChildError
        return request.childIDs.map { ChildStopOutcome(childID: $0, node: localNode, error: error) }
    }

    // MARK: Duplicates

    /// A peer registered instances of `ids`: those that also run here and now have more
    /// instances than the replication factor (two sides of a healed split both restarted them, or
    /// a move raced a restart) are handed to the redistribution pass, which keeps the nodes the
    /// distribution strategy names — the smallest ``NodeID`` among the holders moves the child
    /// there if none holds it — and stops the others. No clock decides.
    ///
    /// The check waits a moment and runs between topology batches: a hot migration legitimately
    /// runs a child on two nodes until it completes.
    ///
    /// With `checkingPlacement`, children running here that the strategy places elsewhere go the
    /// same way: a start forwarded under an older view (delayed by a partition, say) is started
    /// as sent, and no topology change may follow to move it.
    func resolveDuplicates(among ids: [ChildID], checkingPlacement: Bool = false) {
        guard !isStopped, !isPartitioned, !ids.isEmpty else { return }
        let found = registry.overReplicated(ids, on: localNode, limit: replicationFactor)
            + (checkingPlacement ? misplacedHere(ids) : [])
        guard !found.isEmpty, partition.queueDuplicateCheck(found) else { return }
        Task(executorPreference: OffLoopExecutor.shared) { [weak self] in
            guard let grace = self?.configuration.tuning.duplicateGrace else { return }
            try? await Task.sleep(for: grace)
            guard let self else { return }
            await self.topology.run { [self] in
                let queued = partition.takeDuplicateChecks()
                guard !isStopped, !isPartitioned, !isDraining else { return }
                let duplicates = registry.overReplicated(queued, on: localNode, limit: replicationFactor)
                let misplaced = misplacedHere(queued)
                guard !duplicates.isEmpty || !misplaced.isEmpty else { return }
                logger.info("resolving \(duplicates.count) children running on more nodes than placed, \(misplaced.count) placed elsewhere")
                await redistribute(Array(Set(duplicates + misplaced)))
            }
        }
    }

    /// Those of `ids` registered here whose placement no longer includes this node.
    func misplacedHere(_ ids: [ChildID]) -> [ChildID] {
        let local = registry.hosted(ids, on: localNode)
        guard !local.isEmpty else { return [] }
        let placement = self.placement(of: local, on: hubNodes)
        return local.filter { placement[$0]?.contains(localNode) == false }
    }
}

/// Whether this hub node has lost its quorum, the rows it restarts from when quorum returns, and
/// the children queued for a duplicate check.
final class PartitionState: Sendable {
    private struct State {
        var isPartitioned = false
        /// Rows of every child known when quorum was lost, and of children handed here since:
        /// the registry drops a row with its last instance, so the manifest keeps them.
        var manifest: [ChildID: ChildInfo] = [:]
        var duplicateChecks: Set<ChildID> = []
    }

    private let state = Mutex(State())

    var isPartitioned: Bool { state.withLock { $0.isPartitioned } }

    /// Marks the hub partitioned and adds `rows` to the manifest (newer rows replace older ones).
    /// Returns whether the hub just became partitioned.
    func enter(keeping rows: [ChildID: ChildInfo]) -> Bool {
        state.withLock { state in
            state.manifest.merge(rows) { _, newer in newer }
            defer { state.isPartitioned = true }
            return !state.isPartitioned
        }
    }

    /// Adds rows to the manifest of a partitioned hub.
    func remember(_ rows: [ChildID: ChildInfo]) {
        state.withLock { state in
            guard state.isPartitioned else { return }
            state.manifest.merge(rows) { _, newer in newer }
        }
    }

    /// Leaves the partitioned state and hands back the manifest (`nil` when not partitioned).
    func leave() -> [ChildID: ChildInfo]? {
        state.withLock { state in
            guard state.isPartitioned else { return nil }
            defer {
                state.isPartitioned = false
                state.manifest = [:]
            }
            return state.manifest
        }
    }

    /// Drops children from the manifest (stopped elsewhere on purpose while this node was away).
    func forget(_ ids: [ChildID]) {
        state.withLock { state in
            for id in ids { state.manifest[id] = nil }
        }
    }

    /// Queues ids for a duplicate check; returns whether a check must be scheduled (none was).
    func queueDuplicateCheck(_ ids: [ChildID]) -> Bool {
        state.withLock { state in
            let idle = state.duplicateChecks.isEmpty
            state.duplicateChecks.formUnion(ids)
            return idle
        }
    }

    /// The queued ids, emptying the queue.
    func takeDuplicateChecks() -> [ChildID] {
        state.withLock { state in
            defer { state.duplicateChecks = [] }
            return Array(state.duplicateChecks)
        }
    }
}
