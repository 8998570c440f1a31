import ClusterNode

/// Whether an operation went through without any per-child error.
public enum OperationStatus: String, Sendable, Hashable {
    /// No errors.
    case ok
    /// At least one child failed.
    case error
}

/// The outcome of a start: per child, where it runs or why it failed.
public struct StartResult: Sendable {
    /// Children that run, each with its instances' locations.
    public var started: [(id: ChildID, locations: [ChildLocation])]
    /// Children that failed, each with its error.
    public var errors: [(id: ChildID, error: ChildError)]
    /// Whether the started children were stopped again because of errors (`onFailure: .rollback`).
    public var rolledBack: Bool

    /// Creates a result.
    public init(
        started: [(id: ChildID, locations: [ChildLocation])], errors: [(id: ChildID, error: ChildError)],
        rolledBack: Bool = false
    ) {
        self.started = started
        self.errors = errors
        self.rolledBack = rolledBack
    }

    /// `.error` iff ``errors`` is not empty.
    public var status: OperationStatus { errors.isEmpty ? .ok : .error }
    /// The first started child, if any.
    public var first: (id: ChildID, locations: [ChildLocation])? { started.first }
    /// The actor id of the first instance of the first started child.
    public var actorID: ActorID? { started.first?.locations.first?.actorID }
    /// Every started instance's actor id.
    public var actorIDs: [ActorID] { started.flatMap { $0.locations.map(\.actorID) } }
    /// The node of the first instance of the first started child.
    public var node: NodeID? { started.first?.locations.first?.node }
    /// The distinct nodes that run started children, sorted.
    public var nodes: [NodeID] { Set(started.flatMap { $0.locations.map(\.node) }).sorted() }
    /// The ids of the started children.
    public var ids: [ChildID] { started.map(\.id) }
}

/// The outcome of a stop: per child, the nodes it was stopped on or why it failed.
public struct StopResult: Sendable {
    /// Children stopped, each with the nodes its instances were stopped on.
    public var stopped: [(id: ChildID, nodes: [NodeID])]
    /// Children that could not be stopped (unknown ids: ``ChildError/Code/notFound``).
    public var errors: [(id: ChildID, error: ChildError)]

    /// Creates a result.
    public init(stopped: [(id: ChildID, nodes: [NodeID])], errors: [(id: ChildID, error: ChildError)]) {
        self.stopped = stopped
        self.errors = errors
    }

    /// `.error` iff ``errors`` is not empty.
    public var status: OperationStatus { errors.isEmpty ? .ok : .error }
    /// The first stopped child, if any.
    public var first: (id: ChildID, nodes: [NodeID])? { stopped.first }
    /// The distinct nodes children were stopped on, sorted.
    public var nodes: [NodeID] { Set(stopped.flatMap(\.nodes)).sorted() }
    /// The ids of the stopped children.
    public var ids: [ChildID] { stopped.map(\.id) }
}
