import ClusterNode

/// The hub's coordinator as a pure state machine: it takes one ``HubInput`` at a time and answers
/// with the ``HubEffect``s its driver must carry out.
///
/// It does no I/O, reads no clock and draws randomness only from its own seeded generator: the
/// time comes with every input, so the same inputs always give the same effects. Production runs
/// it behind a thin driver (transport, supervisor, timers); ``ProcessHubTesting``'s
/// `SimulatedCluster` runs several of it on a virtual clock.
///
/// Each flow lives in a file named after it: members, joins, leaves and crashes as topology
/// batches (`HubMachine+Topology`), starts (`+Start`), forwarding for strategies whose placement
/// differs per node (`+Forwarding`), stops (`+Stop`), the registry and its synchronisation
/// (`+Registry`, and `+Gossip` when changes spread epidemically), children nobody runs,
/// restarted after a crash or a heal (`+Recovery`), quorum and splits (`+Partition`), handovers, moves and drains (`+Migration`), replica roles
/// (`+Roles`), placement by a start's mapping (`+Mapping`), a local-only node's promotion
/// (`+Promotion`), and the local children (`+Children`).
package struct HubMachine: Sendable {
    // MARK: Configuration

    /// This node.
    package internal(set) var local: NodeID
    package let settings: MachineSettings
    let distribution: any DistributionStrategy
    let redundancy: any RedundancyStrategy
    let migrationSteps: [MigrationStep]
    var quorum: any PartitionPolicy
    var random: MachineRandom

    // MARK: Time and output of the current input

    /// The time of the input being handled (from the driver's clock, virtual in a simulation).
    private(set) var now: Duration = .zero
    var effects: [HubEffect] = []
    /// Messages for every peer, in order, sent when the input is handled.
    var broadcasts: [HubPeerMessage] = []
    /// Registrations queued after the last of ``broadcasts``, merged into one message when
    /// another kind of message comes or the queue is sent.
    var openRegistrations: [RegistryEntry] = []
    /// Withdrawals queued after the last of ``broadcasts``, merged the same way.
    var openWithdrawals: (ids: [ChildID], tombstones: [Tombstone]) = ([], [])
    /// Children that started during the input being handled (checked for misplacement at once).
    var startedInBatch: [ChildID] = []

    // MARK: Members

    /// Nodes the engine reports reachable.
    var reachable: Set<NodeID> = []
    /// Hub peers: reachable nodes that announced the hub (draining ones included).
    var peers: Set<NodeID> = []
    /// Peers that drain: they keep their slots, but nothing is placed on them.
    var drainingPeers: Set<NodeID> = []
    /// The nodes children are placed on, as of the last topology batch, sorted.
    var placementNodes: [NodeID]
    /// Topology events waiting for the debounce window.
    var pendingTopology: [TopologyEvent] = []
    var isDraining = false
    var hasLeft = false

    // MARK: Registry

    var registry = RegistryState()
    /// Stops remembered, by child.
    var tombstones: [ChildID: TombstoneRecord] = [:]
    /// Children the registry listed whose every instance was lost, kept until someone runs them.
    var orphans: [ChildID: Orphan] = [:]
    /// With a strategy that places by the start's mapping: each child's nodes as its start named
    /// them or as the registry last listed them (see ``HubMachine/placementOf(_:)``).
    var mappedPlacement: [ChildID: [NodeID]] = [:]
    /// Snapshot parts received so far, by sender.
    var snapshotIDs: [NodeID: Set<ChildID>] = [:]
    /// Local children that may be duplicates, checked when ``HubTimer/duplicateCheck`` fires.
    var suspectedDuplicates: Set<ChildID> = []
    /// Gossip's numbering, ordering and acknowledgements (``HubMachine+Gossip``).
    var gossip: ChangeLedger
    /// This node's last change before the input being handled (``catchUp(_:)``).
    var lastChangeBeforeInput: UInt64 = 0

    // MARK: Local children, requests, operations

    var children: [ChildID: LocalChild] = [:]
    /// The role each local replica was last given (``HubMachine+Roles``).
    var roles: [ChildID: ReplicaMode] = [:]
    var nextRequestID: UInt64 = 1
    /// Requests this node sent and awaits an answer to.
    var outbound: [UInt64: OutboundRequest] = [:]
    /// Start requests from peers being carried out here.
    var inbound: [InboundKey: InboundStart] = [:]
    var operations: [OperationID: PendingOperation] = [:]
    var drainOperation: OperationID?
    /// Children moved away by the drain in progress (``HookKey/drainCompleted``).
    var drainMigrated = 0
    /// When each reachable node came up (the sync wait of ``MachineSettings/joinSync``).
    var reachableSince: [NodeID: Duration] = [:]
    /// Commands held until this node has synced with newly reachable peers.
    var heldCommands: [(OperationID, HubCommand)] = []

    // MARK: Partition and migrations

    var isPartitioned = false
    /// What the registry listed when quorum was lost: restarted, where still wanted, when it returns.
    var manifest: [ChildID: Orphan] = [:]
    var migrations: [UInt64: Migration] = [:]
    /// Local instances holding their calls for a handover, with the node handing over and since when.
    var held: [ChildID: (origin: NodeID, since: Duration)] = [:]
    /// The migration each moving child belongs to.
    var moving: [ChildID: UInt64] = [:]
    var nextMigrationID: UInt64 = 1

    // MARK: Consent (``HubMachine+Consent``)

    /// Local children that did not consent to move yet, with when they first deferred.
    var deferred: [ChildID: Duration] = [:]
    /// The children each consent round waits for answers from.
    var consentRounds: [UInt64: Set<ChildID>] = [:]
    /// The round each child is being asked in (a child is in at most one).
    var asked: [ChildID: UInt64] = [:]
    var nextConsentRound: UInt64 = 1
    /// Set once children are no longer asked: a graceful stop's drain, or a drain whose wait for
    /// consent is over (a drain is for good, so this is too).
    var consentWaived = false
    /// Children of the drain in progress that moved although they still deferred.
    var drainForced = 0

    /// A machine for `local` with `configuration`'s strategies; `seed` fixes its random choices.
    package init(local: NodeID, configuration: HubConfiguration, settings: MachineSettings? = nil, seed: UInt64) {
        self.local = local
        self.settings = settings ?? MachineSettings(configuration)
        self.distribution = configuration.distribution
        self.redundancy = configuration.redundancy
        self.migrationSteps = Self.steps(of: configuration.migration)
        self.quorum = configuration.partitionTolerance.makePolicy()
        self.random = MachineRandom(seed: seed)
        self.placementNodes = [local]
        self.gossip = ChangeLedger(maxEarlyPerOrigin: self.settings.tuning.maxEarlyGossipPerOrigin)
    }

    /// The strategy's steps, without the state steps when it does not hand state over.
    private static func steps(of strategy: any MigrationStrategy) -> [MigrationStep] {
        let stateSteps: Set<MigrationStep> = [.sealOrigin, .captureState, .deliverState]
        return strategy.handover ? strategy.steps : strategy.steps.filter { !stateSteps.contains($0) }
    }

    // MARK: The entry point

    /// Handles one input at time `now` (measured from any fixed origin, never going back).
    package mutating func handle(_ input: HubInput, now: Duration) -> [HubEffect] {
        self.now = max(self.now, now)
        lastChangeBeforeInput = gossip.lastStamped
        if hasLeft, case .supervisor = input {} else if hasLeft { return [] }
        switch input {
        case .hubStarted: hubStarted()
        case .memberUp(let node): memberUp(node)
        case .memberDown(let node, let reason): memberDown(node, reason: reason)
        case .received(let envelope, let from): received(envelope, from: from)
        case .command(let op, let command): accept(command, op)
        case .timerFired(let timer): timerFired(timer)
        case .renamed(let new): renamed(to: new)
        case .strategyMessage(let envelope, let nodes):
            for node in Set(nodes).sorted() where peers.contains(node) { send(.strategy(envelope), to: node) }
        case .consentAnswered(let round, let ready): consentAnswered(round, ready: ready)
        case .supervisor(let reports):
            reports.forEach { supervisor($0) }
            noteIfMisplaced(startedInBatch)
            signalRoles(of: startedInBatch)
            startedInBatch = []
        }
        flushBroadcasts()
        defer { effects = [] }
        return effects
    }

    private mutating func received(_ envelope: HubEnvelope, from peer: NodeID) {
        guard envelope.version >= HubEnvelope.oldestReadableVersion, envelope.version <= HubEnvelope.currentVersion
        else {
            log(.warning, "ignored a hub message of protocol version \(envelope.version) from \(peer)")
            return
        }
        switch envelope.message {
        case .announce(let announcement): announced(announcement, by: peer)
        case .startChildren(let request): startRequested(request, by: peer)
        case .startReply(let id, let outcomes): startReplied(id, outcomes, by: peer)
        case .stopChildren(let id, let tombstones): stopRequested(id, tombstones, by: peer)
        case .stopReply(let id, let stopped): stopReplied(id, stopped, by: peer)
        case .registered(let entries): registered(entries, by: peer)
        case .unregistered(let ids, let tombstones): unregistered(ids, tombstones, by: peer)
        case .suspended(let ids): withdrawn(ids, by: peer, inTransitTo: nil)
        case .moved(let ids, let target): withdrawn(ids, by: peer, inTransitTo: target)
        case .actorUpdated(let id, let actorID): actorUpdated(id, actorID, by: peer)
        case .snapshot(let part): snapshotReceived(part, from: peer)
        case .handoverDelivery(let states, let release): handoverDelivered(states, release: release, from: peer)
        case .draining: peerDrains(peer)
        case .leaving: peerLeaves(peer)
        case .quorumState(let state): quorumStateReceived(state, from: peer)
        case .strategy(let envelope): effects.append(.deliverStrategyMessage(envelope, from: peer))
        case .gossip(let change): gossipReceived(change, from: peer)
        case .digestRound(let round): digestRoundReceived(round, from: peer)
        case .snapshotRequest: snapshotRequested(by: peer)
        }
    }

    /// Runs `command` now, or holds it (in order) while this node is still syncing.
    private mutating func accept(_ command: HubCommand, _ op: OperationID) {
        // Leaving never waits for a batch (the node goes, whatever it was about to learn), nor
        // does the barrier of the start.
        switch command {
        case .leave, .ready: return perform(command, op)
        default: break
        }
        guard isSyncing || !heldCommands.isEmpty else { return perform(command, op) }
        if heldCommands.isEmpty { effects.append(.setTimer(.heldCommands, after: settings.debounce)) }
        heldCommands.append((op, command))
    }

    /// Whether a topology batch is pending or a newly reachable node has not announced yet.
    var isSyncing: Bool {
        if hasLeft { return false }
        if !pendingTopology.isEmpty { return true }
        return reachable.contains { !peers.contains($0) && now - (reachableSince[$0] ?? .zero) < settings.joinSync }
    }

    /// Runs the held commands once synced; looks again later otherwise.
    mutating func runHeldCommands() {
        guard !heldCommands.isEmpty else { return }
        guard !isSyncing else { return effects.append(.setTimer(.heldCommands, after: settings.debounce)) }
        let held = heldCommands
        heldCommands = []
        for (op, command) in held { perform(command, op) }
    }

    private mutating func perform(_ command: HubCommand, _ op: OperationID) {
        switch command {
        case .start(let specs, let options): startCommand(op, specs, options)
        case .stop(let ids, let options): stopCommand(op, ids, options)
        case .migrate(let id, let target): migrateCommand(op, id, to: target)
        case .drain(let wait): drainCommand(op, askingConsentFor: wait)
        case .migrationReady(let ids): migrationReadyCommand(op, ids)
        case .leave: leaveCommand(op)
        case .ready: effects.append(.complete(op, .done))
        case .resetQuorumSize(let size): resetQuorumCommand(op, size)
        case .forgetSlots(let node): forgetSlotsCommand(op, of: node)
        case .startStatic(let specs): startStaticCommand(op, specs)
        }
    }

    private mutating func timerFired(_ timer: HubTimer) {
        switch timer {
        case .topologyFlush: flushTopology()
        case .syncRound: syncRound()
        case .reconcile: reconcile()
        case .duplicateCheck: checkDuplicates()
        case .operationDeadline(let op): operationExpired(op)
        case .migrationDeadline(let id): migrationExpired(id)
        case .heldCallsExpiry: releaseExpiredHolds()
        case .heldCommands: runHeldCommands()
        case .startRetry(let op): retryStart(op)
        case .consentRetry: retryDeferred()
        case .drainConsentDeadline: drainConsentExpired()
        case .gossipGap: repairGaps()
        }
    }

    private mutating func hubStarted() {
        let members = [local]
        if quorum.startsWithoutQuorum(members: members) { enterPartition() }
        effects.append(.setTimer(.syncRound, after: random.jittered(settings.syncInterval)))
    }

    // MARK: Output helpers

    /// Sends `message` after whatever is queued for every peer, so a peer sees this node's changes
    /// in the order they happened: a registration always comes before the reply that follows it.
    mutating func send(_ message: HubPeerMessage, to peer: NodeID) {
        flushBroadcasts()
        catchUp(peer)
        effects.append(.send(HubEnvelope(message), to: peer))
    }

    /// Queues a message for every peer, merging it into the previous one of the same kind.
    /// Taking the last message out before appending keeps its array uniquely referenced, so a
    /// batch of n registrations costs O(n), not O(n²).
    mutating func broadcast(_ message: HubPeerMessage) {
        switch message {
        case .registered(let more):
            sealWithdrawals()
            openRegistrations.append(contentsOf: more)
        case .unregistered(let ids, let tombstones):
            sealRegistrations()
            openWithdrawals.ids.append(contentsOf: ids)
            openWithdrawals.tombstones.append(contentsOf: tombstones)
        default:
            sealOpenBroadcasts()
            broadcasts.append(message)
        }
    }

    /// Ends the merging: the open registrations or withdrawals become one queued message. They
    /// live outside the queue while open, since an array inside an enum case cannot be appended
    /// to in place: merging there copied every queued entry once per child (O(n²) per batch).
    mutating func sealOpenBroadcasts() {
        sealRegistrations()
        sealWithdrawals()
    }

    private mutating func sealRegistrations() {
        guard !openRegistrations.isEmpty else { return }
        broadcasts.append(.registered(openRegistrations))
        openRegistrations = []
    }

    private mutating func sealWithdrawals() {
        guard !openWithdrawals.ids.isEmpty || !openWithdrawals.tombstones.isEmpty else { return }
        broadcasts.append(.unregistered(openWithdrawals.ids, tombstones: openWithdrawals.tombstones))
        openWithdrawals = ([], [])
    }

    /// Sends the queued messages: to every peer, or, for slot changes under gossip, to a few.
    mutating func flushBroadcasts() {
        sealOpenBroadcasts()
        guard !broadcasts.isEmpty else { return }
        let messages = broadcasts.flatMap { chunked($0) }
        broadcasts = []
        if let (recipients, _) = epidemic {
            for message in messages {
                if let change = message.slotChange {
                    originate(change, recipients: recipients)
                } else {
                    for peer in peers.sorted() { effects.append(.send(HubEnvelope(message), to: peer)) }
                }
            }
            return
        }
        for peer in peers.sorted() {
            for message in messages { effects.append(.send(HubEnvelope(message), to: peer)) }
        }
    }

    /// `message` cut into parts of bounded size.
    func chunked(_ message: HubPeerMessage) -> [HubPeerMessage] {
        switch message {
        case .registered(let entries) where entries.count > settings.tuning.entriesPerMessage:
            entries.chunked(settings.tuning.entriesPerMessage).map { .registered(Array($0)) }
        case .unregistered(let ids, let tombstones) where ids.count > settings.tuning.entriesPerMessage * 4:
            ids.chunked(settings.tuning.entriesPerMessage * 4).enumerated().map { index, part in
                .unregistered(Array(part), tombstones: index == 0 ? tombstones : [])
            }
        default:
            [message]
        }
    }

    mutating func log(_ level: MachineLogLevel, _ message: String) {
        effects.append(.log(level, message))
    }

    mutating func publish(_ changes: [RegistryChange]) {
        guard !changes.isEmpty else { return }
        effects.append(.registryChanged(changes))
        if distribution.placesByChildMapping { rememberMappedPlacement(of: changes) }
    }

    mutating func newRequestID() -> UInt64 {
        defer { nextRequestID += 1 }
        return nextRequestID
    }
}

// MARK: Reads

extension HubMachine {
    /// Every child the registry lists, with the actor ids of its instances (ordered by node).
    package var registryView: [ChildID: [ActorID]] {
        var view: [ChildID: [ActorID]] = [:]
        view.reserveCapacity(registry.table.count)
        for row in registry.table.rows { view[row.spec.id] = registry.locations(row).map(\.actorID) }
        return view
    }

    /// What the registry knows of `id`.
    package func child(_ id: ChildID) -> ChildInfo? { registry.info(of: id) }

    /// How many children the registry lists.
    package var registryCount: Int { registry.table.count }

    /// The local children and their actor ids (those still starting have none yet).
    package var localChildren: [ChildID: ActorID?] {
        children.mapValues { child in
            if case .running(let actorID) = child.phase { return actorID }
            return nil
        }
    }

    /// The hub's peers, sorted.
    package var hubPeers: [NodeID] { peers.sorted() }

    /// The peers that take children (not draining), sorted: the members the API lists.
    package var activePeers: [NodeID] { peers.subtracting(drainingPeers).sorted() }

    /// The nodes children are placed on, sorted.
    package var hubNodes: [NodeID] { placementNodes }

    /// Whether quorum is lost here.
    package var partitioned: Bool { isPartitioned }

    /// Whether this node drains (it takes no children).
    package var draining: Bool { isDraining }
    /// Topology events waiting for their batch (``StrategyHost/pendingWork``).
    package var pendingTopologyCount: Int { pendingTopology.count }

    /// Whether topology work is pending: a batch waits for its window, or moves are in flight
    /// (``ProcessHub/isLocked``).
    package var isLocked: Bool { !pendingTopology.isEmpty || !migrations.isEmpty }

    /// Whether topology events wait for their batch, migrations are in flight, or children are
    /// asked for (or deferred) their consent to move.
    package var isBusy: Bool {
        !pendingTopology.isEmpty || !migrations.isEmpty || !outbound.isEmpty || !inbound.isEmpty || !heldCommands.isEmpty
            || !deferred.isEmpty || !consentRounds.isEmpty
    }

    /// The local children that deferred their move and wait here (``ProcessHub/deferredChildren``).
    package var deferredIDs: [ChildID] { deferred.isEmpty ? [] : deferred.keys.sorted() }

    /// Whether the machine waits for anything: a batch, a migration, a request, an orphan.
    package var isSettled: Bool { !isBusy && orphans.isEmpty && suspectedDuplicates.isEmpty }

    /// `node`'s slot of `id` as a registry entry (the driver mirrors it to the read side).
    func entry(of id: ChildID, on node: NodeID) -> RegistryEntry? { registry.entry(of: id, ownedBy: node) }

    /// The version of `id`'s row (its epoch), as this node knows it.
    package func epoch(of id: ChildID) -> UInt64? { registry.version(of: id)?.epoch }

    /// Whether this node knows `id` in any way that can bring it back: the registry, a local
    /// instance, an orphan, the partition manifest, a start or a move in flight.
    package func knowsOf(_ id: ChildID) -> Bool {
        registry.version(of: id) != nil || children[id] != nil || orphans[id] != nil || manifest[id] != nil
            || operations.values.contains { $0.drafts[id] != nil && $0.waiting[id] != nil }
            || migrations.values.contains { $0.drafts[id] != nil }
    }

    /// Whether this node remembers a stop of `id`.
    package func remembersStop(of id: ChildID) -> Bool { tombstones[id] != nil }
}
