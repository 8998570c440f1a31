import ClusterNode
import Distributed
import Logging
import Synchronization

/// A hub running on one node: the handle through which this node starts, stops and finds the
/// hub's children, wherever in the cluster they run.
///
/// Nodes that start a hub with the same ``HubID`` find each other and form one hub cluster: they
/// place each child on the node(s) its distribution strategy names, keep a registry every node
/// reads locally, restart the children of a node that dies on the survivors, and move children to
/// a node that joins.
public final class ProcessHub: Sendable {
    /// The coordinator: the state machine's driver, or the older `HubCore` for the
    /// configurations the machine does not run yet.
    let core: any HubCoordinator
    /// `core.registry`, held here too: a lookup through `core` retains and releases the registry
    /// around the call (two atomic operations of a lookup that takes a few dozen nanoseconds).
    private let registry: ChildRegistry

    private init(core: any HubCoordinator) {
        self.core = core
        self.registry = core.registry
    }

    /// Starts a hub on `node`: validates the configuration, makes the hub reachable, announces it
    /// to the connected nodes and starts the configuration's static children.
    ///
    /// Throws ``HubError/Code/invalidConfiguration`` or ``HubError/Code/hubAlreadyRunning``.
    public static func start(
        _ configuration: HubConfiguration, on node: ClusterNode,
        logger: Logger = Logger(label: "processhub.hub")
    ) async throws(HubError) -> ProcessHub {
        try configuration.validate()
        var logger = logger
        logger[metadataKey: "hub"] = "\(configuration.hubID)"
        logger[metadataKey: "node"] = "\(node.id.name)@\(node.id.host):\(node.id.port)"
        let core: any HubCoordinator =
            if HubDriver.runs(configuration, on: node) {
                try await HubDriver.launch(configuration, on: node, logger: logger)
            } else {
                try await HubCore.launch(configuration, on: node, logger: logger)
            }
        return ProcessHub(core: core)
    }

    /// Leaves the hub cluster gracefully.
    ///
    /// With `movingChildren` (the default), the children first move to the nodes that own them
    /// without this one, through the migration strategy — with their state when it hands over —
    /// and peers place nothing here meanwhile. Then peers are told this node left (they react at
    /// once) and whatever did not move is stopped. Without it, the children are just stopped and
    /// the peers restart them fresh (as after a crash, but without waiting for failure detection):
    /// the quick way to tear a whole cluster down.
    public func stop(movingChildren: Bool = true) async {
        await core.stop(movingChildren: movingChildren)
    }

    /// The hub's id.
    public var hubID: HubID { core.hubID }
    /// The node this hub runs on.
    public var node: ClusterNode { core.node }
    /// The hub's hook handlers; register and cancel at any time.
    public var hooks: HookRegistry { core.hooks }

    // MARK: Starting and stopping

    /// Starts children: validates, places and dispatches them, and returns at once.
    ///
    /// Immediate problems throw: no children, duplicate ids in the batch, and with
    /// `checkExisting` ids already registered (nothing is started then). Await
    /// ``StartOperation/result(timeout:)`` for the per-child outcome.
    public func startChildren(_ specs: [ChildSpec], options: StartOptions = .init()) throws(HubError) -> StartOperation {
        StartOperation(task: try core.startChildren(specs, options: options))
    }

    /// Starts one child (``startChildren(_:options:)`` with one spec).
    public func startChild(_ spec: ChildSpec, options: StartOptions = .init()) throws(HubError) -> StartOperation {
        try startChildren([spec], options: options)
    }

    /// Stops children wherever they run, and returns at once; unknown ids are reported as
    /// ``ChildError/Code/notFound`` in the awaited result.
    public func stopChildren(_ ids: [ChildID], options: StopOptions = .init()) throws(HubError) -> StopOperation {
        StopOperation(task: try core.stopChildren(ids, options: options))
    }

    /// Stops one child.
    public func stopChild(_ id: ChildID, options: StopOptions = .init()) throws(HubError) -> StopOperation {
        try stopChildren([id], options: options)
    }

    // MARK: Lookups (local, never on the network)

    /// What the registry knows about a child, or `nil`.
    public func child(_ id: ChildID) -> ChildInfo? { registry.child(id) }

    /// The actor id of a child's first instance, or `nil` (ProcessHub's `get_pid`; the cheapest lookup).
    public func actorID(of id: ChildID) -> ActorID? { registry.actorID(of: id) }

    /// The actor ids of a child's instances (empty when unknown).
    public func actorIDs(of id: ChildID) -> [ActorID] { registry.actorIDs(of: id) }

    /// A typed reference to a child's first instance: the local actor when it runs here,
    /// a remote proxy otherwise. Returns `nil` when the child is unknown.
    public func resolve<P: HubProcess>(_ id: ChildID, as type: P.Type) throws -> P? {
        let ids = actorIDs(of: id)
        guard let actorID = ids.first(where: { $0.node == core.localNode }) ?? ids.first else { return nil }
        return try P.resolve(id: actorID, using: core.system)
    }

    /// Which children to list.
    public enum ListScope: Sendable {
        /// Every child of the hub cluster.
        case global
        /// The children running on this node.
        case local
    }

    /// Children and their locations (``ListScope/local``: only this node's instances), sorted by id.
    public func processList(_ scope: ListScope = .global) -> [(id: ChildID, locations: [ChildLocation])] {
        switch scope {
        case .global:
            return core.registry.processList().map { ($0.0, $0.1) }
        case .local:
            let node = core.localNode
            return core.registry.localProcessList(on: node).map { ($0.0, [ChildLocation(node: node, actorID: $0.1)]) }
        }
    }

    /// The whole registry.
    public func registryDump() -> [ChildID: ChildInfo] { core.registry.dump() }

    /// Children whose metadata `tag` equals `tag`.
    public func children(taggedWith tag: String) -> [ChildInfo] { core.registry.children(taggedWith: tag) }

    /// Children whose metadata has `key`, with the value.
    public func children(withMetadataKey key: String) -> [(child: ChildInfo, value: String)] {
        core.registry.children(withMetadataKey: key).map { ($0.0, $0.1) }
    }

    /// The ids of the children this node's supervisor runs.
    public func whichChildren() async -> [ChildID] { await core.supervisor.runningIDs.sorted() }

    /// The hub's member nodes, without this one unless `includeLocal`.
    public func nodes(includeLocal: Bool = false) -> [NodeID] {
        includeLocal ? core.hubNodes : core.peers
    }

    /// Another node's view of this hub's registry (child id → actor ids), asked over the network:
    /// for tools and tests that check every node agrees.
    public func registryView(on node: NodeID) async throws -> [ChildID: [ActorID]] {
        if node == core.localNode { return core.registry.dump().mapValues { $0.locations.map(\.actorID) } }
        return try await core.control(on: node).registryView()
    }

    /// A node's view of this hub (this node's without a network call).
    public func status(of node: NodeID? = nil) async throws -> HubNodeStatus {
        guard let node, node != core.localNode else { return await core.status() }
        return try await core.control(on: node).status()
    }

    /// Whether the hub runs (not stopped).
    public var isAlive: Bool { !core.isStopped }

    /// Whether topology work (joins, leaves, redistribution) is pending.
    public var isLocked: Bool { core.isLocked }

    /// Whether the partition-tolerance strategy has stopped this hub's children: it lost its
    /// quorum, and starts and stops throw ``HubError/Code/partitioned`` until quorum returns.
    /// Always `false` with ``Divergence``.
    public var isPartitioned: Bool { core.isPartitioned }
}

/// A start in flight. Awaiting it is optional.
public struct StartOperation: Sendable {
    let task: Task<StartResult, Never>

    /// Waits for the per-child outcome, at most `timeout`.
    public func result(timeout: Duration = .seconds(30)) async throws(HubError) -> StartResult {
        try await awaitTask(task, timeout: timeout)
    }
}

/// A stop in flight. Awaiting it is optional.
public struct StopOperation: Sendable {
    let task: Task<StopResult, Never>

    /// Waits for the per-child outcome, at most `timeout`.
    public func result(timeout: Duration = .seconds(30)) async throws(HubError) -> StopResult {
        try await awaitTask(task, timeout: timeout)
    }
}

/// Waits for `task` at most `timeout`. The task keeps running when the wait gives up: a start in
/// flight is not undone because nobody waits for its result any more.
private func awaitTask<T: Sendable>(_ task: Task<T, Never>, timeout: Duration) async throws(HubError) -> T {
    let first = FirstResult<T>()
    let value: T? = await withCheckedContinuation { continuation in
        first.set(continuation)
        let timer = Task {
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            first.resume(nil)
        }
        Task {
            let value = await task.value
            timer.cancel()
            first.resume(value)
        }
    }
    guard let value else { throw HubError(.timeout, "no result within \(timeout)") }
    return value
}

/// A continuation resumed once, by whichever of two tasks comes first.
private final class FirstResult<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T?, Never>?>(nil)

    func set(_ continuation: CheckedContinuation<T?, Never>) {
        self.continuation.withLock { $0 = continuation }
    }

    func resume(_ value: T?) {
        continuation.withLock { $0.take() }?.resume(returning: value)
    }
}
