import ClusterNode

/// Options of a start (SPEC §2.3 `init_opts`, with ProcessHub's defaults).
public struct StartOptions: Sendable {
    /// What to do with the children that did start when others failed.
    public enum FailurePolicy: Sendable, Hashable {
        /// Keep them (the default).
        case `continue`
        /// Stop them again; the result says ``StartResult/rolledBack``.
        case rollback
    }

    /// Refuse the whole batch when any id is already registered. Default `true`.
    public var checkExisting: Bool
    /// Default ``FailurePolicy/continue``.
    public var onFailure: FailurePolicy
    /// Metadata for every child of the batch.
    public var metadata: ChildMetadata
    /// Per-child metadata, replacing (not merged with) ``metadata`` for those ids.
    public var childMetadata: [ChildID: ChildMetadata]
    /// How long the originating node waits for the target nodes before finishing the result with
    /// ``ChildError/Code/noResponse`` for the silent ones. Default 10 s.
    public var timeout: Duration
    /// With the ``Guided`` distribution strategy: the nodes each child runs on, the primary first
    /// (as many as the replication factor). Ignored by other strategies.
    public var childMapping: [ChildID: [NodeID]]?

    /// Creates options; every parameter has ProcessHub's default.
    public init(
        checkExisting: Bool = true, onFailure: FailurePolicy = .continue, metadata: ChildMetadata = [:],
        childMetadata: [ChildID: ChildMetadata] = [:], timeout: Duration = .seconds(10),
        childMapping: [ChildID: [NodeID]]? = nil
    ) {
        self.childMapping = childMapping
        self.checkExisting = checkExisting
        self.onFailure = onFailure
        self.metadata = metadata
        self.childMetadata = childMetadata
        self.timeout = timeout
    }

    func metadata(for id: ChildID) -> ChildMetadata {
        childMetadata[id] ?? metadata
    }
}

/// Options of a stop.
public struct StopOptions: Sendable {
    /// How long the originating node waits for the hosting nodes. Default 10 s.
    public var timeout: Duration

    /// Creates options.
    public init(timeout: Duration = .seconds(10)) {
        self.timeout = timeout
    }
}
