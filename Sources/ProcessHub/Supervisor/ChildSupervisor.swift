import ClusterNode
import Distributed
import Logging

/// The hub's local supervisor: it creates the children this node hosts from their registered
/// kinds, runs their bodies, applies restart types and restart intensity, and stops them.
///
/// It tells the hub about what the hub must propagate (a new actor id after a restart, a child
/// gone for good) through ``Events``.
actor ChildSupervisor {
    /// What the supervisor reports to the hub.
    struct Events: Sendable {
        /// A child was restarted and has a new actor id.
        var restarted: @Sendable (ChildID, ActorID) async -> Void
        /// A child ended for good (transient normal exit, temporary exit, intensity exceeded).
        var gone: @Sendable (ChildID, ChildStopReason) async -> Void
    }

    private struct Supervised {
        /// What a restart needs (placement and metadata live in the registry).
        var spec: ChildSpec
        var instance: KindRegistration.Instance
        var epoch: UInt64
        var body: Task<Void, Never>?
        var restarts: [ContinuousClock.Instant] = []
    }

    private let system: ClusterSystem
    private let hubID: HubID
    private let kinds: [HubKind: KindRegistration]
    private let maxRestarts: Int
    private let maxRestartsPeriod: Duration
    private let logger: Logger
    private var events: Events?
    private let metrics: HubMetrics
    private var children: [ChildID: Supervised] = [:] { didSet { metrics.localChildren.record(children.count) } }

    init(system: ClusterSystem, configuration: HubConfiguration, logger: Logger, metrics: HubMetrics) {
        self.metrics = metrics
        self.system = system
        self.hubID = configuration.hubID
        self.kinds = configuration.kinds
        self.maxRestarts = configuration.maxRestarts
        self.maxRestartsPeriod = configuration.maxRestartsPeriod
        self.logger = logger
    }

    func setEvents(_ events: Events) {
        self.events = events
    }

    /// The ids of the children running here.
    var runningIDs: [ChildID] { Array(children.keys) }

    /// Those of `ids` that run here, asked in one visit.
    func running(among ids: [ChildID]) -> Set<ChildID> {
        Set(ids.filter { children[$0] != nil })
    }

    /// How many children run here (without copying their ids).
    var runningCount: Int { children.count }

    /// The actor id of a child running here.
    func actorID(of id: ChildID) -> ActorID? { children[id]?.instance.actorID }

    /// The node was promoted (``ProcessHub/promote()``): record the instances' ids as other
    /// nodes now reach them, so a repeated start reports the id the registry holds.
    func renameNode(_ old: NodeID, to new: NodeID) {
        for (id, child) in children where child.instance.actorID.node == old {
            children[id]?.instance.actorID.node = new
        }
    }

    /// Whether a child runs here.
    func isRunning(_ id: ChildID) -> Bool { children[id] != nil }

    /// The hub's ways into a running child (handover, signals, consent) and its actor id.
    func hooks(of id: ChildID) -> (actorID: ActorID, hooks: KindRegistration.ChildHooks)? {
        guard let child = children[id], let registration = kinds[child.spec.kind] else { return nil }
        return (child.instance.actorID, registration.hooks(child.instance.actor, system))
    }

    /// Starts a child here; a child already running here counts as started (its actor id).
    func start(_ data: ChildStartData) -> Result<ActorID, ChildError> {
        if let running = children[data.childID] { return .success(running.instance.actorID) }
        switch makeInstance(data.spec, epoch: 1) {
        case .failure(let error):
            return .failure(error)
        case .success(let instance):
            children[data.childID] = Supervised(spec: data.spec, instance: instance, epoch: 1)
            children[data.childID]?.body = runBody(of: data.childID, instance, epoch: 1)
            return .success(instance.actorID)
        }
    }

    /// Starts a batch in one visit to the supervisor (one result per child, in order).
    func start(_ batch: [ChildStartData]) -> [Result<ActorID, ChildError>] {
        children.reserveCapacity(children.count + batch.count)
        return batch.map { start($0) }
    }

    /// Stops a child here (its body is cancelled and given the spec's shutdown timeout).
    /// Returns whether it was running.
    @discardableResult
    func stop(_ id: ChildID) async -> Bool {
        guard let child = children.removeValue(forKey: id) else { return false }
        await Self.end(child, logger: logger)
        return true
    }

    /// Stops every child (hub shutdown).
    func stopAll() async {
        let all = children
        children.removeAll()
        await withTaskGroup(of: Void.self) { group in
            for child in all.values { group.addTask { [logger] in await Self.end(child, logger: logger) } }
        }
    }

    private static func end(_ child: Supervised, logger: Logger) async {
        guard let body = child.body else { return }
        body.cancel()
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await body.value; return true }
            group.addTask {
                try? await Task.sleep(for: child.spec.shutdownTimeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !finished {
            logger.warning(
                "child did not stop within its shutdown timeout; abandoning it",
                metadata: ["child": "\(child.spec.id)"])
        }
    }

    // MARK: Creating and running

    private func makeInstance(_ spec: ChildSpec, epoch: UInt64) -> Result<KindRegistration.Instance, ChildError> {
        guard let registration = kinds[spec.kind] else {
            return .failure(ChildError(.unknownKind, "kind \(spec.kind) is not registered in hub \(hubID) on \(system.nodeID)"))
        }
        let id = spec.id
        let context = ChildContext(childID: id, hubID: hubID, epoch: epoch) { [weak self] reason in
            Task { await self?.childEnded(id, epoch: epoch, reason: reason) }
        }
        do {
            return .success(try registration.make(system, spec.encodedArguments, context))
        } catch let error as ChildError {
            return .failure(error)
        } catch {
            return .failure(ChildError(.startFailed, "\(error)"))
        }
    }

    private func runBody(of id: ChildID, _ instance: KindRegistration.Instance, epoch: UInt64) -> Task<Void, Never>? {
        guard let run = instance.run else { return nil }
        return Task { [weak self] in
            let reason: ChildStopReason
            do {
                try await run()
                reason = .normal
            } catch {
                if Task.isCancelled { return }  // stopped by the supervisor
                reason = .crashed("\(error)")
            }
            if Task.isCancelled { return }
            await self?.childEnded(id, epoch: epoch, reason: reason)
        }
    }

    /// Tells the hub, in a task of its own: this often runs in the ended child's body task, which
    /// is cancelled, and the hub's network calls must not inherit that cancellation.
    private func report(_ body: @escaping @Sendable (Events) async -> Void) async {
        guard let events else { return }
        await Task { await body(events) }.value
    }

    /// A child's body ended (or the child asked to stop): apply its restart type.
    private func childEnded(_ id: ChildID, epoch: UInt64, reason: ChildStopReason) async {
        guard var child = children[id], child.epoch == epoch else { return }  // stale or stopped
        child.body?.cancel()
        let restart: Bool
        switch (child.spec.restart, reason) {
        case (.permanent, _), (.transient, .crashed): restart = true
        case (.transient, .normal), (.temporary, _): restart = false
        }
        guard restart else {
            children[id] = nil
            logger.debug("child ended for good", metadata: ["child": "\(id)", "reason": "\(reason)"])
            await report { await $0.gone(id, reason) }
            return
        }
        let now = ContinuousClock.now
        child.restarts = child.restarts.filter { now - $0 < maxRestartsPeriod } + [now]
        guard child.restarts.count <= maxRestarts else {
            children[id] = nil
            logger.error(
                "child exceeded its restart intensity (\(maxRestarts) restarts in \(maxRestartsPeriod)); giving up",
                metadata: ["child": "\(id)"])
            await report { await $0.gone(id, .crashed("restart intensity exceeded")) }
            return
        }
        logger.info("restarting child", metadata: ["child": "\(id)", "reason": "\(reason)"])
        switch makeInstance(child.spec, epoch: epoch + 1) {
        case .failure(let error):
            children[id] = nil
            logger.error("child could not be restarted: \(error)", metadata: ["child": "\(id)"])
            await report { await $0.gone(id, .crashed(error.description)) }
        case .success(let instance):
            child.instance = instance
            child.epoch = epoch + 1
            child.body = runBody(of: id, instance, epoch: epoch + 1)
            children[id] = child
            await report { await $0.restarted(id, instance.actorID) }
        }
    }
}
