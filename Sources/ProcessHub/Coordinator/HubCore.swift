import ClusterNode
import Logging
import Synchronization

/// The coordinator of one hub on one node: it owns the hub's registry, supervisor and hooks,
/// talks to the same hub on other nodes through their ``HubEndpoint``, and runs the flows of
/// SPEC §6 (start, stop, join, leave, sync).
///
/// Reads (registry lookups, the hub node list) never wait: they take a lock for nanoseconds.
/// Topology changes are batched (debounced) and handled one batch at a time by ``Topology``.
final class HubCore: HubCoordinator {
    let configuration: HubConfiguration
    let node: ClusterNode
    let registry: ChildRegistry
    let hooks: HookRegistry
    let supervisor: ChildSupervisor
    let logger: Logger
    let metrics: HubMetrics
    /// What the strategies use to reach this hub (``DistributionStrategy/attach(to:)``).
    let strategyHost: StrategyHost
    let topology = TopologySerializer()
    /// Whether quorum is lost, and what to restart when it returns (``HubCore+Partition``).
    let partition = PartitionState()
    /// Children stopped on purpose: told to peers that were away, not brought back meanwhile.
    let stops: StopLedger
    /// Children whose every instance was lost with departed nodes, until some node registers them.
    let orphans = OrphanLedger()
    private let endpoint = Mutex<HubEndpoint?>(nil)
    private let controlEndpoint = Mutex<HubControlEndpoint?>(nil)
    private let outboxes = Mutex<[NodeID: PeerOutbox]>([:])
    let state: Mutex<State>
    /// Gossip bookkeeping; `nil` under PubSub.
    let gossip: GossipLedger?

    struct State {
        /// Hub members other than this node.
        var peers: Set<NodeID> = []
        var isStopped = false
        /// Topology events waiting for the debounce window, and when the batch began.
        var pendingEvents: [TopologyEvent] = []
        var batchStartedAt: ContinuousClock.Instant?
        var flushTask: Task<Void, Never>?
        /// Batches buffered or being handled (``ProcessHub/isLocked``).
        var pendingTopologyWork = 0
        var background: [Task<Void, Never>] = []
        /// This node drains (or stops): it no longer counts for placement.
        var isDraining = false
        /// Peers that drain: not members for placement, but their slots stay theirs until they
        /// withdraw them or leave.
        var drainingPeers: Set<NodeID> = []
        /// Children that deferred their migration, with when they first did.
        var deferred: [ChildID: ContinuousClock.Instant] = [:]
        var deferRetry: Task<Void, Never>?
        /// Children started here for a hot handover whose calls are held until their state arrives.
        var heldForHandover: [ChildID: ActorID] = [:]
        /// Handed-over states applied here (``HubNodeStatus/handoversApplied``).
        var handoversApplied = 0
        /// The role each local replica was last given.
        var replicaModes: [ChildID: ReplicaMode] = [:]
    }

    enum TopologyEvent: Sendable {
        case joined(NodeID)
        case left(NodeID)
        /// A peer began draining: redistribute without it, but it still hosts its children.
        case drained(NodeID)
    }


    init(configuration: HubConfiguration, node: ClusterNode, logger: Logger) {
        let strategyHost = StrategyHost(localNode: node.id, logger: logger)
        self.strategyHost = strategyHost
        self.configuration = configuration.attachingStrategies(to: strategyHost)
        self.node = node
        self.hooks = configuration.hooks.copy()
        self.registry = ChildRegistry(localNode: node.id, writeChunk: configuration.tuning.registryWriteChunk)
        self.stops = StopLedger(configuration.tuning)
        self.metrics = HubMetrics(hub: configuration.hubID, node: node.id)
        self.supervisor = ChildSupervisor(system: node.system, configuration: configuration, logger: logger, metrics: metrics)
        self.logger = logger
        self.state = Mutex(State())
        self.gossip = (configuration.synchronization as? Gossip).map {
            GossipLedger(
                local: node.id, recipients: $0.recipients, memory: $0.syncInterval,
                maxEarlyPerOrigin: configuration.tuning.maxEarlyGossipPerOrigin)
        }
    }

    // MARK: Lifecycle

    /// Starts a hub on `node` with this coordinator: reachable, announced to the connected nodes,
    /// and partitioned at once when its strategy needs more nodes than it sees.
    static func launch(_ configuration: HubConfiguration, on node: ClusterNode, logger: Logger) async throws(HubError) -> HubCore {
        let core = HubCore(configuration: configuration, node: node, logger: logger)
        try await core.start()
        core.followPromotion()
        for peer in node.members { await core.announce(to: peer) }
        await core.confirmStartupQuorum()
        let statics = configuration.childSpecs.filter { !core.registry.contains($0.id) }
        if !statics.isEmpty { _ = try? core.startChildren(statics, options: .init(checkExisting: false)) }
        return core
    }

    /// Makes the hub reachable, wires the supervisor, and starts the background work.
    func start() async throws(HubError) {
        let control = try HubControlEndpoint.start(for: self)
        controlEndpoint.withLock { $0 = control }
        endpoint.withLock { $0 = HubEndpoint.start(for: self, on: system) }
        strategyHost.bind(self)
        await supervisor.setEvents(.init(
            restarted: { [weak self] id, actorID in await self?.childRestarted(id, actorID: actorID) },
            gone: { [weak self] id, reason in await self?.childGone(id, reason: reason) }))
        let tasks: [Task<Void, Never>] = [
            Task { [weak self] in await self?.followMembership() },
            Task(executorPreference: OffLoopExecutor.shared) { [weak self] in
                await self?.repeatEvery({ $0.configuration.hubsDiscoverInterval }) { await $0.announceToNonMembers() }
            },
            Task(executorPreference: OffLoopExecutor.shared) { [weak self] in
                await self?.repeatEvery({ $0.configuration.synchronization.syncInterval }) { await $0.syncRound() }
            },
            Task(executorPreference: OffLoopExecutor.shared) { [weak self] in
                await self?.repeatEvery({ _ in OrphanLedger.grace }) { await $0.reconcileOrphans() }
            },
        ]
        state.withLock { $0.background = tasks }
    }

    var isStopped: Bool { state.withLock { $0.isStopped } }

    /// Leaves the hub cluster gracefully: the children move to their new nodes first (with
    /// their state when the migration strategy hands over), then peers are told and whatever
    /// could not move is stopped.
    func stop(movingChildren: Bool) async {
        if movingChildren && !isStopped && !peers.isEmpty {
            if await beginDraining() { await redistribute(askConsent: false) }
        }
        let (peers, background, flush) = state.withLock { state -> ([NodeID], [Task<Void, Never>], Task<Void, Never>?) in
            state.isStopped = true
            return (Array(state.peers) + Array(state.drainingPeers), state.background + [state.deferRetry].compactMap { $0 }, state.flushTask)
        }
        background.forEach { $0.cancel() }
        flush?.cancel()
        await hooks.dispatch(.coordinatorShutdown, CoordinatorShutdownEvent(reason: "stop"))
        await forEachPeer(peers) { peer in try await peer.leaving(self.localNode) }
        await supervisor.stopAll()
        // The system holds well-known actors strongly: let go of the endpoint so the hub id is
        // free again on this node.
        if let retired = endpoint.withLock({ state -> HubEndpoint? in defer { state = nil }; return state }) {
            _ = try? await system.stopActor(retired.id)
        }
        if let retired = controlEndpoint.withLock({ state -> HubControlEndpoint? in defer { state = nil }; return state }) {
            _ = try? await system.stopActor(retired.id)
        }
    }

    /// Runs `body` every `interval` until the hub stops.
    private func repeatEvery(_ interval: @Sendable (HubCore) -> Duration, _ body: @Sendable (HubCore) async -> Void) async {
        while !Task.isCancelled && !isStopped {
            try? await Task.sleep(for: interval(self))
            if Task.isCancelled || isStopped { return }
            await body(self)
        }
    }

    // MARK: Members

    /// The hub's nodes that take children, this one included unless it drains, sorted.
    var hubNodes: [NodeID] {
        state.withLock { Array($0.peers) + ($0.isDraining ? [] : [localNode]) }.sorted()
    }

    var peers: [NodeID] { state.withLock { Array($0.peers) }.sorted() }

    /// Whether `node` is this node or a peer (draining peers included: they still own their slots).
    func isMember(_ node: NodeID) -> Bool {
        node == localNode || state.withLock { $0.peers.contains(node) || $0.drainingPeers.contains(node) }
    }

    var isDraining: Bool { state.withLock { $0.isDraining } }

    var isLocked: Bool { state.withLock { $0.pendingTopologyWork > 0 } }

    // MARK: Placement

    var replicationFactor: Int {
        configuration.redundancy.replicationFactor(hubNodeCount: hubNodes.count)
    }

    func placement(of ids: [ChildID], on nodes: [NodeID]) -> [ChildID: [NodeID]] {
        configuration.distribution.belongsTo(ids, replicationFactor: replicationFactor, nodes: nodes)
    }

    var signature: UInt64 { configuration.distribution.signature(of: hubNodes) }

    // MARK: Talking to peers

    func endpoint(of peer: NodeID) throws -> HubEndpoint {
        try HubEndpoint.resolve(hubID, on: peer, using: system)
    }

    /// Calls `body` on every peer's endpoint concurrently, logging (not throwing) failures:
    /// a peer that misses a push is repaired by the next sync round.
    func forEachPeer(_ peers: [NodeID], _ body: @escaping @Sendable (HubEndpoint) async throws -> Void) async {
        let timeout = configuration.crossNodeRequestTimeout
        await withTaskGroup(of: Void.self) { group in
            for peer in peers {
                group.addTask {
                    do {
                        let endpoint = try self.endpoint(of: peer)
                        try await ClusterSystem.withCallTimeout(timeout) { try await body(endpoint) }
                    } catch {
                        self.logger.debug("hub message failed", metadata: ["peer": "\(peer)", "error": "\(error)"])
                    }
                }
            }
        }
    }

    /// Queues items for `peers`, in order.
    func send(_ items: [PeerOutbox.Item], to peers: [NodeID]) async {
        for peer in peers { await outbox(for: peer).enqueue(items) }
    }

    func outbox(for peer: NodeID) -> PeerOutbox {
        outboxes.withLock { outboxes in
            if let outbox = outboxes[peer] { return outbox }
            let from = localNode
            let outbox = PeerOutbox(
                deliver: { [weak self, metrics] delivery, queuedAt in
                    await self?.forEachPeer([peer]) { endpoint in
                        switch delivery {
                        case .update(let update):
                            try await endpoint.update(update, from: from)
                            metrics.pushApplied(update, queuedAt: queuedAt)
                        case .gossip(let change): try await endpoint.gossip(change)
                        }
                    }
                },
                stamp: metrics.pushQueued,
                snapshot: { [weak self] in self?.snapshotUpdates() ?? [] })
            outboxes[peer] = outbox
            return outbox
        }
    }

    /// Forgets a departed peer's outbox (what is still queued for it is dropped with it).
    func dropOutbox(of peer: NodeID) {
        _ = outboxes.withLock { $0.removeValue(forKey: peer) }
    }

    // MARK: Registry changes → hooks

    func fireHooks(for changes: [RegistryChange]) async {
        metrics.registrySize.record(registry.count)
        for change in changes {
            switch change {
            case .registered(let id, let location):
                await hooks.dispatch(.childRegistered, ChildRegisteredEvent(childID: id, locations: [location]))
            case .unregistered(let id, let node):
                await hooks.dispatch(.childUnregistered, ChildUnregisteredEvent(childID: id, node: node))
            }
        }
    }
}

/// Runs topology batches one at a time, in arrival order.
actor TopologySerializer {
    private var tail: Task<Void, Never>?

    func run(_ work: @escaping @Sendable () async -> Void) async {
        let previous = tail
        let next = Task {
            await previous?.value
            await work()
        }
        tail = next
        await next.value
    }
}
