import ClusterNode
import Logging
import Synchronization
import Tracing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs one ``HubMachine`` on a real node: the thin shell of the hub's state machine, and the
/// hub's coordinator for every configuration it ``runs(_:on:)``.
///
/// One task owns the machine and takes its inputs, in order, from one inbox: membership events,
/// messages from peers (through ``MachineEndpoint``), API commands, timers and supervisor
/// reports. It carries out the effects: sends go to one ordered outbox per peer, starts, stops
/// and handovers to the ``ChildSupervisor`` and the system's call gates, timers sleep on the
/// clock, answers resume their callers, hook events go to the ``HookRegistry``, and registry
/// changes are mirrored to a ``ChildRegistry``, the lock-cheap read side lookups are served
/// from. Every task it starts is owned and ended by ``stop(movingChildren:)``.
///
/// The API side (`HubDriver+API`) only checks what it can check on the read side and sends
/// commands; hooks and metrics are in `HubDriver+Hooks`.
final class HubDriver: HubCoordinator {
    let configuration: HubConfiguration
    let node: ClusterNode
    let supervisor: ChildSupervisor
    let hooks: HookRegistry
    let metrics: HubMetrics
    let logger: Logger
    /// The read side: lookups never wait for the owner loop.
    let registry: ChildRegistry
    /// What this hub's strategies use to talk to their peers (``StrategyHost``).
    let strategyHost: StrategyHost
    let inbox: AsyncStream<HubInput>.Continuation
    private let inputs: AsyncStream<HubInput>
    /// The machine's time and timers (real time unless a test injects another clock).
    let clock: any HubClock
    /// The machine until the owner loop takes it; from then on only the loop holds it.
    private let unstarted: Mutex<HubMachine?>
    private let state = Mutex(State())
    /// What the API reads of the machine, published after every input.
    let summary = Mutex(MachineSummary())

    private struct State {
        var waiters: [OperationID: CheckedContinuation<OperationOutcome, Never>] = [:]
        var nextOperation: UInt64 = 1
        var outboxes: [NodeID: AsyncStream<Outgoing>.Continuation] = [:]
        /// The task delivering each outbox.
        var senders: [NodeID: Task<Void, Never>] = [:]
        var timers: [HubTimer: Task<Void, Never>] = [:]
        var tasks: [UInt64: Task<Void, Never>] = [:]
        var nextTask: UInt64 = 1
        var isStopped = false
        var endpoints: (machine: MachineEndpoint, control: HubControlEndpoint)?
        /// Handed-over states applied here (``HubNodeStatus/handoversApplied``).
        var handoversApplied = 0
        /// Local instances holding their calls for a hot handover, with their registry entry
        /// once the machine registered it: lookups here see them only once released, because
        /// local calls do not pass the call gate that holds remote ones.
        var holding: [ChildID: RegistryEntry?] = [:]
        /// The span of each migration in flight from here.
        var migrationSpans: [UInt64: any Span] = [:]
    }

    func beginSpan(of migration: UInt64, _ span: any Span) { state.withLock { $0.migrationSpans[migration] = span } }

    func endSpan(of migration: UInt64) { state.withLock { $0.migrationSpans.removeValue(forKey: migration) }?.end() }

    var handoversApplied: Int { state.withLock { $0.handoversApplied } }

    func countHandovers(_ count: Int) { state.withLock { $0.handoversApplied += count } }

    /// One encoded message for a peer, with when it was queued when pushes are timed.
    private struct Outgoing: Sendable {
        var bytes: [UInt8]
        var queuedAt: ContinuousClock.Instant?
    }

    /// A driver for `configuration`'s hub on `node`; ``start()`` makes it run.
    init(
        configuration: HubConfiguration, node: ClusterNode, logger: Logger, seed: UInt64 = .random(in: 0 ... .max),
        clock: any HubClock = ContinuousHubClock()
    ) {
        self.clock = clock
        let strategyHost = StrategyHost(localNode: node.id, logger: logger)
        var configuration = configuration
        configuration.distribution = configuration.distribution.attach(to: strategyHost)
        self.strategyHost = strategyHost
        self.configuration = configuration
        self.node = node
        self.logger = logger
        self.hooks = configuration.hooks.copy()
        self.metrics = HubMetrics(hub: configuration.hubID, node: node.id)
        self.supervisor = ChildSupervisor(system: node.system, configuration: configuration, logger: logger, metrics: metrics)
        let machine = HubMachine(local: node.id, configuration: configuration, seed: seed)
        // The read side knows this node from the start: a start right after the hub started
        // checks its mapping against the hub's nodes before the owner loop ran once.
        self.summary.withLock { $0.update(from: machine) }
        self.unstarted = Mutex(machine)
        self.registry = ChildRegistry(localNode: node.id, writeChunk: configuration.tuning.registryWriteChunk)
        (inputs, inbox) = AsyncStream.makeStream(of: HubInput.self)
    }

    // MARK: Lifecycle

    /// Whether the machine runs `configuration` on `node`; the rest still runs on `HubCore`.
    ///
    /// The machine runs every configuration: every strategy, ``Gossip`` included, with or
    /// without ``MigrationConsent``.
    /// `PROCESSHUB_COORDINATOR=core` forces `HubCore`, to compare the two in one binary.
    static func runs(_ configuration: HubConfiguration, on node: ClusterNode) -> Bool {
        if configuration.forcesLegacyCoordinator { return false }
        if let forced = getenv("PROCESSHUB_COORDINATOR"), String(cString: forced) == "core" { return false }
        return true
    }

    /// ProcessHub's `promote_to_node`: the moment a local-only node is promoted (before it
    /// listens, so no peer ever sees the old identity), the read side and the supervisor are
    /// renamed at once and the machine hears it before any input from a peer.
    private func followPromotion() {
        guard node.system.isLocalOnly else { return }
        node.system.onPromotion { [weak self, supervisor] _, new in
            guard let self, let old = self.renameReadSide(to: new) else { return }
            Task { await supervisor.renameNode(old, to: new) }
        }
    }

    /// Renames this node on the read side (registry and summary) at once, and tells the machine;
    /// returns the old identity, or `nil` when it already had `new`.
    func renameReadSide(to new: NodeID) -> NodeID? {
        let old = registry.renameLocalNode(to: new)
        guard old != new else { return nil }
        summary.withLock { $0.hubNodes = $0.hubNodes.map { $0 == old ? new : $0 } }
        inbox.yield(.renamed(to: new))
        return old
    }

    /// Starts a hub on `node` with this driver.
    static func launch(_ configuration: HubConfiguration, on node: ClusterNode, logger: Logger) async throws(HubError) -> HubDriver {
        let driver = HubDriver(configuration: configuration, node: node, logger: logger)
        try await driver.start()
        // The hub has started once the machine handled its start (a quorum strategy may start
        // partitioned): what the API reads from then on says so.
        _ = await driver.perform(.ready)
        if !configuration.childSpecs.isEmpty { driver.tell(.startStatic(configuration.childSpecs)) }
        return driver
    }

    /// Makes the hub reachable and starts the owner task and the membership follower.
    func start() async throws(HubError) {
        let control = try HubControlEndpoint.start(for: self)
        let endpoint = node.system.withWellKnownName(MachineEndpoint.wellKnownName(of: hubID)) {
            MachineEndpoint(
                actorSystem: node.system,
                inbox: { [inbox] envelope, from in inbox.yield(.received(envelope, from: from)) },
                refused: { [logger] error, from in logger.warning("refused a hub message from \(from): \(error)") })
        }
        state.withLock { $0.endpoints = (endpoint, control) }
        await supervisor.setEvents(.init(
            restarted: { [inbox, metrics, hooks, system = node.system] id, actorID in
                metrics.restarted.increment()
                inbox.yield(.supervisor([.restarted(id, actorID)]))
                await hooks.dispatch(.childPidUpdated, ChildActorUpdatedEvent(childID: id, node: system.nodeID, actorID: actorID))
            },
            gone: { [inbox] id, _ in inbox.yield(.supervisor([.ended(id)])) }))
        followPromotion()
        strategyHost.bind(self)
        let events = node.events
        own { [inbox, weak self] in
            for await event in events {
                switch event {
                case .up(let peer): inbox.yield(.memberUp(peer))
                case .down(let peer, let reason):
                    inbox.yield(.memberDown(peer, reason: MemberDownReason(reason)))
                    self?.dropOutbox(of: peer)
                }
            }
        }
        guard let machine = unstarted.withLock({ $0.take() }) else { return }
        own { [self] in await run(machine) }
        inbox.yield(.hubStarted)
        for peer in node.members { inbox.yield(.memberUp(peer)) }
    }

    var isStopped: Bool { state.withLock { $0.isStopped } }

    /// Leaves the hub: the children move first when asked (a drain), peers are told, local
    /// children stop, and every task of the driver ends.
    func stop(movingChildren: Bool) async {
        guard !isStopped else { return }
        if movingChildren && !peers.isEmpty && !isPartitioned {
            // A graceful stop does not wait for consent (as `HubCore`'s).
            _ = await perform(.drain(askingConsentFor: nil), timeout: configuration.migrationTimeout * 2)
        }
        _ = await perform(.leave)
        await dispatch(.coordinatorShutdown, CoordinatorShutdownEvent(reason: "stop"))
        // The peers must hear the goodbye: what is queued for them goes out first (within the
        // cross-node timeout), then everything else ends.
        let senders = state.withLock { state in
            state.outboxes.values.forEach { $0.finish() }
            state.outboxes = [:]
            return Array(state.senders.values)
        }
        await Self.waitForAll(senders, atMost: configuration.crossNodeRequestTimeout)
        let (tasks, endpoints) = state.withLock { state -> ([Task<Void, Never>], (MachineEndpoint, HubControlEndpoint)?) in
            state.isStopped = true
            let tasks = Array(state.tasks.values) + Array(state.timers.values) + Array(state.senders.values)
            let waiters = state.waiters.values
            state.waiters = [:]
            for waiter in waiters { waiter.resume(returning: .failed(HubError(.hubStopped, "the hub stopped"))) }
            defer { state.endpoints = nil }
            return (tasks, state.endpoints)
        }
        inbox.finish()
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        await supervisor.stopAll()
        // The system holds well-known actors strongly: let go of them so the hub id is free again.
        if let (machine, control) = endpoints {
            _ = try? await node.system.stopActor(machine.id)
            _ = try? await node.system.stopActor(control.id)
        }
    }

    /// Waits until every task in `tasks` ended, or `timeout` passed.
    private static func waitForAll(_ tasks: [Task<Void, Never>], atMost timeout: Duration) async {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for task in tasks { await task.value }
                return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            _ = await group.next()
            group.cancelAll()
        }
    }

    /// Runs `body` as a task the driver owns until it ends (or ``stop(movingChildren:)`` ends it).
    private func own(_ body: @escaping @Sendable () async -> Void) {
        state.withLock { state in
            guard !state.isStopped else { return }
            let key = state.nextTask
            state.nextTask += 1
            // Off the event loops: a long machine step (a snapshot of a million slots, a large
            // batch) must never keep a loop from answering heartbeats, or peers declare a busy
            // node dead.
            state.tasks[key] = Task(executorPreference: OffLoopExecutor.shared) { [weak self] in
                await body()
                _ = self?.state.withLock { $0.tasks.removeValue(forKey: key) }
            }
        }
    }

    // MARK: Commands

    /// Sends a command through the machine and waits for its answer.
    func perform(_ command: HubCommand) async -> OperationOutcome {
        await withCheckedContinuation { continuation in
            let op: OperationID? = state.withLock { state in
                guard !state.isStopped else { return nil }
                let op = OperationID(state.nextOperation)
                state.nextOperation += 1
                state.waiters[op] = continuation
                return op
            }
            guard let op else { return continuation.resume(returning: .failed(HubError(.hubStopped, "the hub stopped"))) }
            inbox.yield(.command(op, command))
        }
    }

    /// ``perform(_:)``, giving up waiting after `timeout` (the command goes on in the machine).
    func perform(_ command: HubCommand, timeout: Duration) async -> OperationOutcome? {
        await withTaskGroup(of: OperationOutcome?.self) { group in
            group.addTask { await self.perform(command) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// Sends a command whose answer nobody waits for.
    func tell(_ command: HubCommand) {
        let op: OperationID? = state.withLock { state in
            guard !state.isStopped else { return nil }
            defer { state.nextOperation += 1 }
            return OperationID(state.nextOperation)
        }
        if let op { inbox.yield(.command(op, command)) }
    }

    // MARK: The owner loop

    private func run(_ initial: HubMachine) async {
        var machine = initial
        for await input in inputs {
            let effects = machine.handle(input, now: clock.elapsed)
            let entries = registryEntries(for: effects, in: machine)
            summary.withLock { $0.update(from: machine) }
            // Registry changes next to each other reach the read side as one write (a batch of
            // starts publishes one change per child), still in order with the other effects.
            var changes: [RegistryChange] = []
            for effect in effects {
                if case .registryChanged(let more) = effect {
                    changes.append(contentsOf: more)
                    continue
                }
                if !changes.isEmpty { await mirror(changes, entries: entries) }
                changes.removeAll(keepingCapacity: true)
                await carryOut(effect, entries: entries)
            }
            if !changes.isEmpty { await mirror(changes, entries: entries) }
        }
    }

    /// The slots the registry changes of `effects` name, read from the machine once it handled
    /// the whole input (a change undone within the same input has no slot left).
    private func registryEntries(for effects: [HubEffect], in machine: HubMachine) -> [RegistryKey: RegistryEntry] {
        var entries: [RegistryKey: RegistryEntry] = [:]
        var count = 0
        for case .registryChanged(let changes) in effects { count += changes.count }
        entries.reserveCapacity(count)
        for case .registryChanged(let changes) in effects {
            for case .registered(let id, let location) in changes {
                entries[RegistryKey(id: id, node: location.node)] = machine.entry(of: id, on: location.node)
            }
        }
        return entries
    }

    private func carryOut(_ effect: HubEffect, entries: [RegistryKey: RegistryEntry]) async {
        switch effect {
        case .send(let envelope, let peer): send(envelope, to: peer)
        case .startChildren(let launches): await startChildren(launches)
        case .stopChildren(let ids, let cause): stopChildren(ids, cause: cause)
        case .captureStates(let ids): captureStates(ids)
        case .askConsent(let ids, let round, let deadline): askConsent(ids, round: round, within: deadline)
        case .sealCalls(let ids): for id in ids { if let actorID = await supervisor.actorID(of: id) { await node.system.sealCalls(to: actorID) } }
        case .deliverStates(let states, let release): await deliver(states, release: release)
        case .hook(let event): await fire(event)
        case .setTimer(let timer, let after): setTimer(timer, after: after)
        case .cancelTimer(let timer): state.withLock { $0.timers.removeValue(forKey: timer)?.cancel() }
        case .complete(let op, let outcome): state.withLock { $0.waiters.removeValue(forKey: op) }?.resume(returning: outcome)
        case .registryChanged(let changes): await mirror(changes, entries: entries)
        case .log(let level, let line): log(level, line)
        case .deliverStrategyMessage(let envelope, _): own { [strategyHost] in await strategyHost.deliver(envelope) }
        }
    }

    // MARK: Local children

    private func startChildren(_ launches: [ChildLaunch]) async {
        var data = launches.map { ChildStartData(childID: $0.id, spec: $0.spec, nodes: [node.id], metadata: $0.metadata) }
        var reports: [SupervisorReport] = []
        if hooks.hasHandlers(alter: .childDataAlter) {
            for index in data.indices {
                let altered = await hooks.alter(.childDataAlter, data[index])
                // The id stays: the machine knows the child by it.
                guard altered.childID == data[index].childID, altered.spec.id == data[index].childID else { continue }
                if altered.spec != data[index].spec || altered.metadata != data[index].metadata {
                    reports.append(.startDataAltered(altered.childID, spec: altered.spec, metadata: altered.metadata))
                }
                data[index] = altered
            }
        }
        let results = await supervisor.start(data)
        for (launch, result) in zip(launches, results) {
            switch result {
            case .success(let actorID):
                // A handed-over state goes in, and calls are held, before anyone can find it.
                if let state = launch.state { await apply(state, to: launch.id) }
                if launch.holdsCalls {
                    node.system.holdCalls(to: actorID)
                    state.withLock { _ = $0.holding.updateValue(nil, forKey: launch.id) }
                }
                reports.append(.started(launch.id, actorID))
            case .failure(let error):
                reports.append(.startFailed(launch.id, error))
            }
        }
        inbox.yield(.supervisor(reports))
        await childrenStarted(data, results)
    }

    /// Stops run beside the loop: a child may take its whole shutdown timeout.
    private func stopChildren(_ ids: [ChildID], cause: StopCause) {
        if cause == .requested { metrics.stopped.increment(by: ids.count) }
        own { [supervisor, inbox] in
            for id in ids { await supervisor.stop(id) }
            inbox.yield(.supervisor(ids.map { .stopped($0) }))
        }
    }

    // MARK: Handover

    /// Seals each child and asks it for its state, beside the loop (a child may be slow to answer).
    private func captureStates(_ ids: [ChildID]) {
        own { [supervisor, inbox, system = node.system, logger] in
            var reports: [SupervisorReport] = []
            for id in ids {
                guard let (actorID, hooks) = await supervisor.hooks(of: id) else {
                    reports.append(.stateCaptured(id, nil))
                    continue
                }
                await system.sealCalls(to: actorID)
                do {
                    reports.append(.stateCaptured(id, try await hooks.captureState()))
                } catch {
                    logger.warning("child \(id) could not encode its handover state: \(error)")
                    reports.append(.stateCaptured(id, nil))
                }
            }
            inbox.yield(.supervisor(reports))
        }
    }

    // MARK: Consent

    /// Asks each child at once, beside the loop (a child may be slow to answer, or never
    /// answer), and reports the children that consented before the round's shared deadline.
    private func askConsent(_ ids: [ChildID], round: UInt64, within deadline: Duration) {
        own { [supervisor, inbox, clock] in
            let answers = await gather(ids, within: deadline, on: clock) { id in await supervisor.hooks(of: id)?.hooks.consent() }
            let ready = Set(answers.filter { $0.value == .ready }.keys)
            inbox.yield(.consentAnswered(round: round, ready: ready))
        }
    }

    private func deliver(_ states: [ChildID: HandoverPayload], release: [ChildID]) async {
        for (id, state) in states.sorted(by: { $0.key < $1.key }) { await apply(state, to: id) }
        var shown: [RegistryChange] = []
        for id in release {
            if let actorID = await supervisor.actorID(of: id) { node.system.releaseCalls(to: actorID) }
            let entry = state.withLock { $0.holding.removeValue(forKey: id) } ?? nil
            if let entry {
                _ = registry.register([entry])
                shown.append(.registered(id, ChildLocation(node: node.id, actorID: entry.actorID)))
            }
        }
        if !shown.isEmpty { await registryChanged(shown) }
    }

    private func apply(_ state: HandoverPayload, to id: ChildID) async {
        guard let hooks = await supervisor.hooks(of: id)?.hooks else { return }
        do {
            try await hooks.applyState(state)
            countHandovers(1)
            metrics.handovers.increment()
        } catch {
            logger.warning("handed-over state of \(id) does not decode: \(error)")
        }
    }

    // MARK: The read side

    /// Mirrors the machine's registry changes to ``registry``, then tells the hooks.
    private func mirror(_ changes: [RegistryChange], entries: [RegistryKey: RegistryEntry]) async {
        var applied: [RegistryChange] = []
        applied.reserveCapacity(changes.count)
        // Consecutive registrations are written in one call: one lock round per run, not per child.
        var registrations: [RegistryEntry] = []
        let local = node.id
        for change in changes {
            switch change {
            case .registered(let id, let location):
                guard let entry = entries[RegistryKey(id: id, node: location.node)] else { continue }
                if location.node == local && withhold(entry) { continue }
                registrations.append(entry)
            case .unregistered(let id, let node):
                if !registrations.isEmpty { _ = registry.register(registrations) }
                registrations.removeAll(keepingCapacity: true)
                if node == local { state.withLock { _ = $0.holding.removeValue(forKey: id) } }
                _ = registry.unregister([id], on: node)
            }
            applied.append(change)
        }
        if !registrations.isEmpty { _ = registry.register(registrations) }
        await registryChanged(applied)
    }

    /// Keeps `entry` off the read side while its instance holds its calls (shown on release).
    private func withhold(_ entry: RegistryEntry) -> Bool {
        state.withLock { state in
            guard state.holding[entry.childID] != nil else { return false }
            state.holding[entry.childID] = entry
            return true
        }
    }

    private func setTimer(_ timer: HubTimer, after delay: Duration) {
        state.withLock { state in
            state.timers[timer]?.cancel()
            guard !state.isStopped else { return }
            state.timers[timer] = Task { [inbox, clock] in
                guard (try? await clock.sleep(for: delay)) != nil else { return }
                inbox.yield(.timerFired(timer))
            }
        }
    }

    // MARK: Sending

    /// Queues `envelope` on `peer`'s outbox; one task per peer delivers them in order.
    private func send(_ envelope: HubEnvelope, to peer: NodeID) {
        guard let bytes = try? envelope.encoded() else { return log(.warning, "could not encode \(envelope)") }
        let queuedAt: ContinuousClock.Instant? = if case .registered = envelope.message { metrics.pushQueued() } else { nil }
        outbox(for: peer)?.yield(Outgoing(bytes: bytes, queuedAt: queuedAt))
    }

    /// `peer`'s outbox, made (with its delivering task) on first use. Only the owner loop sends.
    private func outbox(for peer: NodeID) -> AsyncStream<Outgoing>.Continuation? {
        if let existing = state.withLock({ $0.outboxes[peer] }) { return existing }
        let (stream, continuation) = AsyncStream.makeStream(of: Outgoing.self)
        let (hubID, system, local, logger, metrics) = (hubID, node.system, node.id, logger, metrics)
        return state.withLock { state in
            guard !state.isStopped else { return nil }
            state.outboxes[peer] = continuation
            state.senders[peer] = Task { await Self.deliver(stream, to: peer, hubID: hubID, system: system, local: local, logger: logger, metrics: metrics) }
            return continuation
        }
    }

    /// Ends a departed peer's outbox: what is still queued for it goes out or fails, then its
    /// task ends (a new incarnation gets a new outbox).
    private func dropOutbox(of peer: NodeID) {
        let sender = state.withLock { state -> Task<Void, Never>? in
            state.outboxes.removeValue(forKey: peer)?.finish()
            return state.senders.removeValue(forKey: peer)
        }
        // Still owned until it ends: ``stop(movingChildren:)`` cancels what has not.
        if let sender { own { await withTaskCancellationHandler { await sender.value } onCancel: { sender.cancel() } } }
    }

    /// Delivers one peer's messages in order until its outbox is finished.
    private static func deliver(
        _ stream: AsyncStream<Outgoing>, to peer: NodeID, hubID: HubID, system: ClusterSystem, local: NodeID, logger: Logger,
        metrics: HubMetrics
    ) async {
        for await outgoing in stream {
            do {
                let endpoint = try MachineEndpoint.resolve(hubID, on: peer, using: system)
                try await endpoint.deliver(outgoing.bytes, from: local)
                if let queuedAt = outgoing.queuedAt { metrics.syncLag.record(ContinuousClock.now - queuedAt) }
            } catch {
                // A lost message is repaired by the next sync round; a peer that is down is
                // reported by membership.
                logger.debug("hub message to \(peer) failed: \(error)")
            }
        }
    }

    private func log(_ level: MachineLogLevel, _ line: String) {
        switch level {
        case .debug: logger.debug("\(line)")
        case .info: logger.info("\(line)")
        case .warning: logger.warning("\(line)")
        }
    }
}

/// A child's slot on one node: the key of the entries the driver mirrors.
struct RegistryKey: Hashable, Sendable {
    var id: ChildID
    var node: NodeID
}

/// What the API reads of the machine without waiting for its loop, published after every input.
struct MachineSummary: Sendable {
    var peers: [NodeID] = []
    var hubNodes: [NodeID] = []
    var isPartitioned = false
    var isLocked = false
    var isDraining = false
    var pendingTopologyWork = 0
    /// The local children that deferred their move.
    var deferredIDs: [ChildID] = []
    /// What gossip did on this node (zero under PubSub).
    var gossip = ChangeLedger.Statistics()

    mutating func update(from machine: HubMachine) {
        peers = machine.activePeers
        hubNodes = machine.hubNodes
        isPartitioned = machine.partitioned
        isLocked = machine.isLocked
        isDraining = machine.draining
        pendingTopologyWork = machine.pendingTopologyCount
        deferredIDs = machine.deferredIDs
        gossip = machine.gossipStatistics
    }
}

extension MemberDownReason {
    init(_ reason: MembershipEvent.DownReason) {
        switch reason {
        case .left: self = .left
        case .connectionLost: self = .connectionLost
        case .heartbeatTimeout: self = .heartbeatTimeout
        case .restarted: self = .replaced
        }
    }
}
