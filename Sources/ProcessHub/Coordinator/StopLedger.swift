import ClusterNode
import Synchronization

/// What this node knows of children stopped on purpose (a stop request, or a child that ended for
/// good), so that nothing brings them back: ProcessHub's churn stubs, made causal.
///
/// - **Stops a peer missed.** A peer cut off by a partition or a stall keeps the instances it had,
///   and may restart others' children it thinks lost; when it returns it registers them again.
///   The node that stopped a child is the one that knows it was a stop and not a move, so it
///   keeps, per absent peer, the children it stopped meanwhile and tells the peer in the
///   announcement that readmits it. The peer stops its instances of them: all predate the news.
/// - **Recent stops.** For ``HubTuning/recentStopMemory`` after a stop (its own, or one it was
///   told of), a node does not restart or move the child by itself (lost-node restarts, the
///   partition manifest, redistribution); a start request still starts it, and ends that memory.
final class StopLedger: Sendable {
    /// Bounds: a peer that never returns must not grow this forever (``HubTuning/maxAbsentPeers``,
    /// ``HubTuning/maxStopsPerPeer``).
    private let maxAbsentPeers: Int
    private let maxStopsPerPeer: Int
    /// How long a stop counts as recent (``HubTuning/recentStopMemory``).
    private let recentStopMemory: Duration
    /// The most ids one announcement tells (``HubTuning/idsPerMessage``).
    private let maxMissedPerAnnouncement: Int

    /// A ledger bounded and timed by `tuning`.
    init(_ tuning: HubTuning = HubTuning()) {
        maxAbsentPeers = tuning.maxAbsentPeers
        maxStopsPerPeer = tuning.maxStopsPerPeer
        recentStopMemory = tuning.recentStopMemory
        maxMissedPerAnnouncement = tuning.idsPerMessage
    }

    private struct State {
        var away: [NodeID: Set<ChildID>] = [:]
        var recent: [ChildID: ContinuousClock.Instant] = [:]
    }

    private let state = Mutex(State())

    /// `peer` left or became unreachable: stops from now on are kept for it — and so are the
    /// recent ones, as the two sides of a split notice it at different moments: a stop made here
    /// just before this node gave up on the peer may have missed it too.
    func peerLeft(_ peer: NodeID) {
        state.withLock { state in
            if state.away[peer] == nil && state.away.count >= maxAbsentPeers, let any = state.away.keys.min() {
                state.away[any] = nil
            }
            let now = ContinuousClock.now
            let recent = state.recent.filter { $0.value > now }.keys
            state.away[peer, default: []].formUnion(recent.prefix(maxStopsPerPeer))
        }
    }

    /// Children stopped on purpose here (or stopped here because a peer said so).
    func recordStops(_ ids: [ChildID]) {
        guard !ids.isEmpty else { return }
        let until = ContinuousClock.now + recentStopMemory
        state.withLock { state in
            for peer in state.away.keys where state.away[peer, default: []].count < maxStopsPerPeer {
                state.away[peer]?.formUnion(ids)
            }
            prune(&state)
            for id in ids { state.recent[id] = until }
        }
    }

    /// A peer's stops while this node was away: remembered as recent stops.
    func learnStops(_ ids: [ChildID]) {
        let until = ContinuousClock.now + recentStopMemory
        state.withLock { state in
            prune(&state)
            for id in ids { state.recent[id] = until }
        }
    }

    /// What to tell `peer` in an announcement: the stops it missed while away here, and every
    /// recent stop — an announcement means its sender had given up on this node, perhaps before
    /// this node gave up on it, or without this node noticing at all (a split heals at different
    /// moments on its two sides). At most ``HubTuning/idsPerMessage`` ids.
    func missed(by peer: NodeID) -> [ChildID] {
        state.withLock { state in
            let now = ContinuousClock.now
            var ids = state.away[peer] ?? []
            ids.formUnion(state.recent.filter { $0.value > now }.keys)
            return Array(ids.sorted().prefix(maxMissedPerAnnouncement))
        }
    }

    /// `peer` is readmitted: what it missed is forgotten (it was told), and so is what was kept
    /// for its earlier incarnations (a new incarnation starts from nothing).
    func peerReturned(_ peer: NodeID) {
        state.withLock { state in
            for other in state.away.keys where other == peer || other.sameEndpoint(as: peer) { state.away[other] = nil }
        }
    }

    /// Whether `id` was stopped on purpose recently: not to be restarted or moved by this node.
    func wasRecentlyStopped(_ id: ChildID) -> Bool {
        state.withLock { state in
            guard let until = state.recent[id] else { return false }
            return until > .now
        }
    }

    /// `ids` were started again (here, or registered by a peer): they are wanted, and no longer
    /// a stop to tell anyone about.
    /// Takes any sequence, so the registration path builds no id list while nothing is recorded.
    func started<IDs: Sequence<ChildID>>(_ ids: IDs) {
        state.withLock { state in
            guard !state.recent.isEmpty || !state.away.isEmpty else { return }
            let ids = Array(ids)
            for id in ids { state.recent[id] = nil }
            for peer in state.away.keys where !state.away[peer, default: []].isEmpty {
                state.away[peer]?.subtract(ids)
            }
        }
    }

    private func prune(_ state: inout State) {
        guard state.recent.count > 1_024 else { return }
        let now = ContinuousClock.now
        state.recent = state.recent.filter { $0.value > now }
    }
}

extension HubCore {
    /// A returning peer stopped these children while this node was cut off from it: stop the
    /// instances here (they predate the stop), and do not bring them back by itself.
    func applyStopsMadeWhileAway(_ ids: [ChildID]) {
        guard !ids.isEmpty else { return }
        stops.learnStops(ids)
        partition.forget(ids)
        // Instances this node knows of elsewhere may be its own doing: restarts of children it
        // thought lost while cut off. They go too.
        let elsewhere = ids.filter { id in registry.child(id)?.locations.contains { $0.node != localNode } ?? false }
        if !elsewhere.isEmpty { _ = stopChildren(elsewhere, options: StopOptions()) }
        Task(executorPreference: OffLoopExecutor.shared) {
            var stopped: [ChildID] = []
            for id in ids where await self.supervisor.stop(id) { stopped.append(id) }
            guard !stopped.isEmpty else { return }
            self.logger.info("stopped \(stopped.count) children a peer stopped while this node was away")
            self.stops.recordStops(stopped)
            await self.withdrawLocal(stopped)
        }
    }
}
