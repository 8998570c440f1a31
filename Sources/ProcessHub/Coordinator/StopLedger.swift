import ClusterNode
import Synchronization

/// What this node knows of children stopped on purpose (a stop request, or a child that ended for
/// good), so that nothing brings them back: ProcessHub's churn stubs, made causal by epochs.
///
/// A stop is a **tombstone** at the row's epoch (``RegistryEntry/epoch``). An instance of that
/// epoch or older is a leftover wherever it turns up (the other side of a split restarted it, a
/// stalled node still ran it): its registration is refused and its host told to stop it. A later
/// start authors a newer epoch, so it is a new start, not a resurrection, and ends the tombstone.
///
/// - **Tombstones travel**: with the stop itself (``RegistryUpdate/stopped(_:)``, to every
///   peer), in announcements and in sync snapshots, so a node that stopped a child and then died
///   does not take the only memory of the stop with it.
/// - **Stops a peer missed**: per absent peer, the stops made while it was away, told in the
///   announcement that readmits it.
/// - **Bounds**: a tombstone is kept for ``HubTuning/recentStopMemory``, at most ``HubTuning/maxRememberedStops`` of them
///   (the oldest go first); a peer that never returns keeps at most ``HubTuning/maxStopsPerPeer``.
final class StopLedger: Sendable {
    /// Bounds: a peer that never returns must not grow this forever (``HubTuning/maxAbsentPeers``,
    /// ``HubTuning/maxStopsPerPeer``).
    private let maxAbsentPeers: Int
    private let maxStopsPerPeer: Int
    /// How long a tombstone lasts (``HubTuning/recentStopMemory``): longer than any split or
    /// stall the hub is meant to heal from.
    private let recentStopMemory: Duration
    /// How many tombstones a node keeps at most (``HubTuning/maxRememberedStops``).
    private let maxTombstones: Int
    /// The most stops one message tells (``HubTuning/idsPerMessage``).
    private let maxPerMessage: Int

    /// A ledger bounded and timed by `tuning`.
    init(_ tuning: HubTuning = HubTuning()) {
        maxAbsentPeers = tuning.maxAbsentPeers
        maxStopsPerPeer = tuning.maxStopsPerPeer
        recentStopMemory = tuning.recentStopMemory
        maxTombstones = tuning.maxRememberedStops
        maxPerMessage = tuning.idsPerMessage
    }

    private struct Tombstone {
        var epoch: UInt64
        var until: ContinuousClock.Instant
    }

    private struct State {
        var away: [NodeID: [ChildID: UInt64]] = [:]
        var recent: [ChildID: Tombstone] = [:]
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
            // The list exists from now on, even empty: later stops are kept for the peer.
            if state.away[peer] == nil { state.away[peer] = [:] }
            let now = ContinuousClock.now
            for (id, tombstone) in state.recent where tombstone.until > now {
                guard state.away[peer, default: [:]].count < maxStopsPerPeer else { break }
                state.away[peer, default: [:]][id] = max(state.away[peer]?[id] ?? 0, tombstone.epoch)
            }
        }
    }

    /// Children stopped on purpose here (or stopped here because a peer said so), each at the
    /// epoch of the instance that was stopped.
    func recordStops(_ stops: [ChildID: UInt64]) {
        guard !stops.isEmpty else { return }
        state.withLock { state in
            for peer in state.away.keys where state.away[peer, default: [:]].count < maxStopsPerPeer {
                state.away[peer]?.merge(stops, uniquingKeysWith: max)
            }
            remember(stops, in: &state)
        }
    }

    /// Stops made elsewhere (a peer's broadcast, announcement or snapshot): remembered as tombstones.
    func learnStops(_ stops: [ChildID: UInt64]) {
        guard !stops.isEmpty else { return }
        state.withLock { remember(stops, in: &$0) }
    }

    /// What to tell `peer` in an announcement: the stops it missed while away here, and every
    /// recent stop — an announcement means its sender had given up on this node, perhaps before
    /// this node gave up on it, or without this node noticing at all (a split heals at different
    /// moments on its two sides). At most ``HubTuning/idsPerMessage`` of them.
    func missed(by peer: NodeID) -> [ChildID: UInt64] {
        state.withLock { state in
            var stops = state.away[peer] ?? [:]
            stops.merge(live(state), uniquingKeysWith: max)
            return limited(stops)
        }
    }

    /// Every live tombstone (for sync snapshots), at most ``HubTuning/idsPerMessage``.
    func tombstones() -> [ChildID: UInt64] {
        state.withLock { limited(live($0)) }
    }

    /// `peer` is readmitted: what it missed is forgotten (it was told), and so is what was kept
    /// for its earlier incarnations (a new incarnation starts from nothing).
    func peerReturned(_ peer: NodeID) {
        state.withLock { state in
            for other in state.away.keys where other == peer || other.sameEndpoint(as: peer) { state.away[other] = nil }
        }
    }

    /// The epoch `id` was stopped at, while remembered.
    func tombstone(of id: ChildID) -> UInt64? {
        state.withLock { state in
            guard let tombstone = state.recent[id], tombstone.until > .now else { return nil }
            return tombstone.epoch
        }
    }

    /// Whether an instance of `id` at `epoch` predates a stop of it: a leftover, not a child.
    func isLeftover(_ id: ChildID, epoch: UInt64) -> Bool {
        tombstone(of: id).map { epoch <= $0 } ?? false
    }

    /// The leftovers among `entries` (see ``isLeftover(_:epoch:)``), with their tombstones'
    /// epochs; cheap while nothing is remembered.
    func leftovers(among entries: [RegistryEntry]) -> [ChildID: UInt64] {
        state.withLock { state in
            guard !state.recent.isEmpty else { return [:] }
            let now = ContinuousClock.now
            var found: [ChildID: UInt64] = [:]
            for entry in entries {
                if let tombstone = state.recent[entry.spec.id], tombstone.until > now, entry.epoch <= tombstone.epoch {
                    found[entry.spec.id] = tombstone.epoch
                }
            }
            return found
        }
    }

    /// Children started again at these epochs (here, or registered by a peer): a start newer
    /// than a tombstone ends it, and the stop is no longer one to tell anyone about.
    /// Takes any sequence, so the registration path builds no list while nothing is recorded.
    func started<Starts: Sequence<(ChildID, UInt64)>>(_ starts: Starts) {
        state.withLock { state in
            guard !state.recent.isEmpty || !state.away.isEmpty else { return }
            for (id, epoch) in starts {
                if let tombstone = state.recent[id], tombstone.epoch < epoch { state.recent[id] = nil }
                for peer in state.away.keys {
                    if let stopped = state.away[peer]?[id], stopped < epoch { state.away[peer]?[id] = nil }
                }
            }
        }
    }

    private func remember(_ stops: [ChildID: UInt64], in state: inout State) {
        let until = ContinuousClock.now + recentStopMemory
        prune(&state)
        for (id, epoch) in stops {
            state.recent[id] = Tombstone(epoch: max(epoch, state.recent[id]?.epoch ?? 0), until: until)
        }
    }

    private func live(_ state: State) -> [ChildID: UInt64] {
        let now = ContinuousClock.now
        return state.recent.compactMapValues { $0.until > now ? $0.epoch : nil }
    }

    private func limited(_ stops: [ChildID: UInt64]) -> [ChildID: UInt64] {
        guard stops.count > maxPerMessage else { return stops }
        return Dictionary(uniqueKeysWithValues: stops.sorted { $0.key < $1.key }.prefix(maxPerMessage).map { ($0.key, $0.value) })
    }

    /// Drops expired tombstones, then the oldest beyond ``HubTuning/maxRememberedStops``.
    private func prune(_ state: inout State) {
        guard state.recent.count > 1_024 else { return }
        let now = ContinuousClock.now
        state.recent = state.recent.filter { $0.value.until > now }
        guard state.recent.count >= maxTombstones else { return }
        let oldest = state.recent.sorted { $0.value.until < $1.value.until }.prefix(state.recent.count - maxTombstones + 1)
        for (id, _) in oldest { state.recent[id] = nil }
    }
}

extension HubCore {
    /// Tombstones from a peer (its stop broadcast, announcement or snapshot): remembered; local
    /// instances they cover are stopped and withdrawn (they predate the stop), and they are no
    /// longer orphans or in the partition manifest.
    func applyTombstones(_ stops: [ChildID: UInt64]) async {
        let stops = current(stops)
        guard !stops.isEmpty else { return }
        self.stops.learnStops(stops)
        partition.forget(Array(stops.keys))
        orphans.forget(stops)
        // Snapshots repeat every tombstone: ask the supervisor once which of them run here.
        let covered = Array(stops.keys)
        var stopped: [ChildID: UInt64] = [:]
        for id in await supervisor.running(among: covered) where await supervisor.stop(id) { stopped[id] = stops[id] }
        guard !stopped.isEmpty else { return }
        logger.info("stopped \(stopped.count) children a peer stopped on purpose")
        self.stops.recordStops(stopped)
        await withdrawLocal(Array(stopped.keys))
    }

    /// The tombstones among `stops` that a newer start known here has not made obsolete.
    func current(_ stops: [ChildID: UInt64]) -> [ChildID: UInt64] {
        stops.filter { id, epoch in (registry.version(of: id)?.epoch ?? 0) <= epoch }
    }

    /// A returning peer stopped these children while this node was cut off from it: stop the
    /// instances here (they predate the stop), and do not bring them back by itself. Without
    /// epochs (an older peer), the stop covers the version this node knows.
    func applyStopsMadeWhileAway(_ ids: [ChildID], epochs: [UInt64]?) {
        guard !ids.isEmpty else { return }
        var stops: [ChildID: UInt64] = [:]
        for (index, id) in ids.enumerated() {
            stops[id] = epochs.flatMap { index < $0.count ? $0[index] : nil } ?? registry.version(of: id)?.epoch ?? 1
        }
        stops = current(stops)
        self.stops.learnStops(stops)
        partition.forget(Array(stops.keys))
        orphans.forget(stops)
        // Instances this node knows of elsewhere may be its own doing: restarts of children it
        // thought lost while cut off. They go too.
        let elsewhere = stops.keys.filter { id in
            guard let info = registry.child(id) else { return false }
            return info.locations.contains { $0.node != localNode }
        }
        if !elsewhere.isEmpty { _ = stopChildren(Array(elsewhere), timeout: StopOptions().timeout) }
        Task(executorPreference: OffLoopExecutor.shared) { await self.applyTombstones(stops) }
    }
}
