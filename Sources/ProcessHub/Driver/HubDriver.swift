import ClusterNode
import Logging
import Synchronization

/// Runs one ``HubMachine`` on a real node: the thin shell of the hub's state machine.
///
/// One task owns the machine and takes its inputs, in order, from one inbox: membership events,
/// messages from peers (through ``MachineEndpoint``), API commands, timers and supervisor
/// reports. It carries out the effects: sends go to one ordered outbox per peer, starts, stops
/// and handovers to the ``ChildSupervisor`` and the system's call gates, timers sleep on the
/// clock, answers resume their callers, and registry changes are mirrored to a ``ChildRegistry``,
/// the same lock-cheap read side `ProcessHub` serves lookups from. Every task it starts is owned
/// and ended by ``stop()``.
///
/// This is the first cut of the driver that is to replace `HubCore`: it runs starts, stops,
/// joins, departures, recovery, quorum and moves with handover over real TCP. Hooks and metrics
/// are not wired yet.
final class HubDriver: Sendable {
    let hubID: HubID
    let node: ClusterNode
    private let supervisor: ChildSupervisor
    private let logger: Logger
    private let inbox: AsyncStream<HubInput>.Continuation
    private let inputs: AsyncStream<HubInput>
    private let origin = ContinuousClock.now
    private let state = Mutex(State())
    private let machine: Mutex<HubMachine?>
    /// The read side: lookups never wait for the owner loop.
    let registry: ChildRegistry

    private struct State {
        var waiters: [OperationID: CheckedContinuation<OperationOutcome, Never>] = [:]
        var nextOperation: UInt64 = 1
        var outboxes: [NodeID: AsyncStream<[UInt8]>.Continuation] = [:]
        var timers: [HubTimer: Task<Void, Never>] = [:]
        var tasks: [UInt64: Task<Void, Never>] = [:]
        var nextTask: UInt64 = 1
        var isStopped = false
        var endpoint: MachineEndpoint?
    }

    /// A driver for `configuration`'s hub on `node`; ``start()`` makes it run.
    init(configuration: HubConfiguration, node: ClusterNode, logger: Logger, seed: UInt64 = .random(in: 0 ... .max)) {
        self.hubID = configuration.hubID
        self.node = node
        self.logger = logger
        self.supervisor = ChildSupervisor(
            system: node.system, configuration: configuration, logger: logger,
            metrics: HubMetrics(hub: configuration.hubID, node: node.id))
        self.machine = Mutex(HubMachine(local: node.id, configuration: configuration, seed: seed))
        self.registry = ChildRegistry(localNode: node.id, writeChunk: configuration.tuning.registryWriteChunk)
        (inputs, inbox) = AsyncStream.makeStream(of: HubInput.self)
    }

    // MARK: Lifecycle

    /// Makes the hub reachable and starts the owner task and the membership follower.
    func start() async {
        let endpoint = node.system.withWellKnownName(MachineEndpoint.wellKnownName(of: hubID)) {
            MachineEndpoint(
                actorSystem: node.system,
                inbox: { [inbox] envelope, from in inbox.yield(.received(envelope, from: from)) },
                refused: { [logger] error, from in logger.warning("refused a hub message from \(from): \(error)") })
        }
        state.withLock { $0.endpoint = endpoint }
        await supervisor.setEvents(.init(
            restarted: { [inbox] id, actorID in inbox.yield(.supervisor([.restarted(id, actorID)])) },
            gone: { [inbox] id, _ in inbox.yield(.supervisor([.ended(id)])) }))
        let events = node.events
        own { [inbox] in
            for await event in events {
                switch event {
                case .up(let peer): inbox.yield(.memberUp(peer))
                case .down(let peer, let reason): inbox.yield(.memberDown(peer, reason: MemberDownReason(reason)))
                }
            }
        }
        own { [self] in await run() }
        inbox.yield(.hubStarted)
        for peer in node.members { inbox.yield(.memberUp(peer)) }
    }

    /// Leaves the hub: peers are told, local children stop, and every task of the driver ends.
    func stop() async {
        _ = await perform(.leave)
        let (tasks, endpoint) = state.withLock { state -> ([Task<Void, Never>], MachineEndpoint?) in
            state.isStopped = true
            let tasks = Array(state.tasks.values) + Array(state.timers.values)
            state.outboxes.values.forEach { $0.finish() }
            defer { state.endpoint = nil }
            return (tasks, state.endpoint)
        }
        inbox.finish()
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        await supervisor.stopAll()
        if let endpoint { _ = try? await node.system.stopActor(endpoint.id) }
    }

    /// Runs `body` as a task the driver owns until it ends (or ``stop()`` ends it).
    private func own(_ body: @escaping @Sendable () async -> Void) {
        state.withLock { state in
            guard !state.isStopped else { return }
            let key = state.nextTask
            state.nextTask += 1
            state.tasks[key] = Task { [weak self] in
                await body()
                _ = self?.state.withLock { $0.tasks.removeValue(forKey: key) }
            }
        }
    }

    // MARK: API

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

    /// The registry as this node sees it (lock-cheap, never waits for the machine).
    var registryView: [ChildID: [ActorID]] { registry.dump().mapValues { $0.locations.map(\.actorID) } }

    /// The actor ids of `id`'s instances.
    func actorIDs(of id: ChildID) -> [ActorID] { registry.actorIDs(of: id) }

    /// The hub's peers, as the machine knows them.
    var peers: [NodeID] { machine.withLock { $0?.hubPeers ?? [] } }

    /// Whether the machine reports quorum lost.
    var isPartitioned: Bool { machine.withLock { $0?.partitioned ?? false } }

    // MARK: The owner loop

    private func run() async {
        for await input in inputs {
            let effects = machine.withLock { machine -> [HubEffect] in
                machine?.handle(input, now: ContinuousClock.now - origin) ?? []
            }
            for effect in effects { await carryOut(effect) }
        }
    }

    private func carryOut(_ effect: HubEffect) async {
        switch effect {
        case .send(let envelope, let peer): send(envelope, to: peer)
        case .startChildren(let launches): await startChildren(launches)
        case .stopChildren(let ids, _): stopChildren(ids)
        case .captureStates(let ids): captureStates(ids)
        case .sealCalls(let ids): for id in ids { if let actorID = await supervisor.actorID(of: id) { await node.system.sealCalls(to: actorID) } }
        case .deliverStates(let states, let release): await deliver(states, release: release)
        case .hook: break
        case .setTimer(let timer, let after): setTimer(timer, after: after)
        case .cancelTimer(let timer): state.withLock { $0.timers.removeValue(forKey: timer)?.cancel() }
        case .complete(let op, let outcome): state.withLock { $0.waiters.removeValue(forKey: op) }?.resume(returning: outcome)
        case .registryChanged(let changes): mirror(changes)
        case .log(let level, let line): log(level, line)
        }
    }

    private func startChildren(_ launches: [ChildLaunch]) async {
        let data = launches.map { ChildStartData(childID: $0.id, spec: $0.spec, nodes: [node.id], metadata: $0.metadata) }
        let results = await supervisor.start(data)
        var reports: [SupervisorReport] = []
        for (launch, result) in zip(launches, results) {
            switch result {
            case .success(let actorID):
                // A handed-over state goes in, and calls are held, before anyone can find it.
                if let state = launch.state { await apply(state, to: launch.id) }
                if launch.holdsCalls { node.system.holdCalls(to: actorID) }
                reports.append(.started(launch.id, actorID))
            case .failure(let error):
                reports.append(.startFailed(launch.id, error))
            }
        }
        inbox.yield(.supervisor(reports))
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

    private func deliver(_ states: [ChildID: HandoverPayload], release: [ChildID]) async {
        for (id, state) in states.sorted(by: { $0.key < $1.key }) { await apply(state, to: id) }
        for id in release {
            if let actorID = await supervisor.actorID(of: id) { node.system.releaseCalls(to: actorID) }
        }
    }

    private func apply(_ state: HandoverPayload, to id: ChildID) async {
        guard let hooks = await supervisor.hooks(of: id)?.hooks else { return }
        do {
            try await hooks.applyState(state)
        } catch {
            logger.warning("handed-over state of \(id) does not decode: \(error)")
        }
    }

    // MARK: The read side

    /// Mirrors the machine's registry changes to ``registry``, reading each new slot from the
    /// machine (a change within one input that was undone by the next one has no slot left).
    private func mirror(_ changes: [RegistryChange]) {
        let slots = machine.withLock { machine in
            changes.map { change -> (RegistryChange, RegistryEntry?) in
                guard case .registered(let id, let location) = change else { return (change, nil) }
                return (change, machine?.entry(of: id, on: location.node))
            }
        }
        for (change, entry) in slots {
            switch change {
            case .registered:
                if let entry { _ = registry.register([entry]) }
            case .unregistered(let id, let node):
                _ = registry.unregister([id], on: node)
            }
        }
    }

    /// Stops run beside the loop: a child may take its whole shutdown timeout.
    private func stopChildren(_ ids: [ChildID]) {
        own { [supervisor, inbox] in
            for id in ids { await supervisor.stop(id) }
            inbox.yield(.supervisor(ids.map { .stopped($0) }))
        }
    }

    private func setTimer(_ timer: HubTimer, after delay: Duration) {
        state.withLock { state in
            state.timers[timer]?.cancel()
            guard !state.isStopped else { return }
            state.timers[timer] = Task { [inbox] in
                guard (try? await Task.sleep(for: delay)) != nil else { return }
                inbox.yield(.timerFired(timer))
            }
        }
    }

    // MARK: Sending

    /// Queues `envelope` on `peer`'s outbox; one task per peer delivers them in order.
    private func send(_ envelope: HubEnvelope, to peer: NodeID) {
        guard let bytes = try? envelope.encoded() else { return log(.warning, "could not encode \(envelope)") }
        outbox(for: peer)?.yield(bytes)
    }

    /// `peer`'s outbox, made (with its delivering task) on first use. Only the owner loop sends.
    private func outbox(for peer: NodeID) -> AsyncStream<[UInt8]>.Continuation? {
        if let existing = state.withLock({ $0.outboxes[peer] }) { return existing }
        let (stream, continuation) = AsyncStream.makeStream(of: [UInt8].self)
        let installed = state.withLock { state -> Bool in
            guard !state.isStopped else { return false }
            state.outboxes[peer] = continuation
            return true
        }
        guard installed else { return nil }
        let (hubID, system, local, logger) = (hubID, node.system, node.id, logger)
        own {
            for await bytes in stream {
                do {
                    let endpoint = try MachineEndpoint.resolve(hubID, on: peer, using: system)
                    try await endpoint.deliver(bytes, from: local)
                } catch {
                    // A lost message is repaired by the next sync round; a peer that is down is
                    // reported by membership.
                    logger.debug("hub message to \(peer) failed: \(error)")
                }
            }
        }
        return continuation
    }

    private func log(_ level: MachineLogLevel, _ line: String) {
        switch level {
        case .debug: logger.debug("\(line)")
        case .info: logger.info("\(line)")
        case .warning: logger.warning("\(line)")
        }
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
