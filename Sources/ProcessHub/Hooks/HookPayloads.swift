import ClusterNode

/// A hub node joined or left: the payload of ``HookKey/preNodeJoin``, ``HookKey/postNodeJoin``,
/// ``HookKey/preNodeLeave`` and ``HookKey/postNodeLeave``.
public struct NodeEvent: Sendable, Hashable, Codable {
    /// The node that joined or left.
    public var node: NodeID

    /// Creates the payload.
    public init(node: NodeID) {
        self.node = node
    }
}

/// A registry write added or changed a child's locations: the payload of
/// ``HookKey/childRegistered``.
public struct ChildRegisteredEvent: Sendable, Hashable, Codable {
    /// The child.
    public var childID: ChildID
    /// Only the locations this write added or changed, not all of the child's locations.
    public var locations: [ChildLocation]

    /// Creates the payload.
    public init(childID: ChildID, locations: [ChildLocation]) {
        self.childID = childID
        self.locations = locations
    }
}

/// A child's registry row, or its binding on one node, was removed: the payload of
/// ``HookKey/childUnregistered``.
public struct ChildUnregisteredEvent: Sendable, Hashable, Codable {
    /// The child.
    public var childID: ChildID
    /// The node whose binding was removed, or `nil` when the whole row went.
    public var node: NodeID?

    /// Creates the payload.
    public init(childID: ChildID, node: NodeID? = nil) {
        self.childID = childID
        self.node = node
    }
}

/// What a node needs to start one child: the value ``AlterHookKey/childDataAlter`` rewrites and
/// the items of a ``ChildrenStartRequestEvent``.
public struct ChildStartData: Sendable, Hashable, Codable {
    /// The child.
    public var childID: ChildID
    /// Its spec.
    public var spec: ChildSpec
    /// The nodes the child was placed on.
    public var nodes: [NodeID]
    /// The metadata stored with it in the registry.
    public var metadata: ChildMetadata

    /// Creates the start data.
    public init(childID: ChildID, spec: ChildSpec, nodes: [NodeID], metadata: ChildMetadata = [:]) {
        self.childID = childID
        self.spec = spec
        self.nodes = nodes
        self.metadata = metadata
    }
}

/// A start request reached the receiving node: the payload of ``HookKey/preChildrenStart``.
public struct ChildrenStartRequestEvent: Sendable, Hashable, Codable {
    /// The node the request came from.
    public var originator: NodeID
    /// The children to start.
    public var children: [ChildStartData]

    /// Creates the payload.
    public init(originator: NodeID, children: [ChildStartData]) {
        self.originator = originator
        self.children = children
    }
}

/// The outcome of starting one child on the local node: an item of a ``ChildrenStartedEvent``.
public struct StartedChild: Sendable, Hashable, Codable {
    /// The child.
    public var childID: ChildID
    /// Its spec.
    public var spec: ChildSpec
    /// The started actor, or `nil` when the start failed.
    public var actorID: ActorID?
    /// Why the start failed, or `nil` when it succeeded.
    public var error: String?
    /// The nodes the child was placed on.
    public var nodes: [NodeID]
    /// Its metadata.
    public var metadata: ChildMetadata

    /// Creates the outcome.
    public init(
        childID: ChildID, spec: ChildSpec, actorID: ActorID?, error: String? = nil, nodes: [NodeID],
        metadata: ChildMetadata = [:]
    ) {
        self.childID = childID
        self.spec = spec
        self.actorID = actorID
        self.error = error
        self.nodes = nodes
        self.metadata = metadata
    }
}

/// The local supervisor started a batch: the payload of ``HookKey/postChildrenStart``.
public struct ChildrenStartedEvent: Sendable, Hashable, Codable {
    /// One outcome per child of the batch.
    public var children: [StartedChild]

    /// Creates the payload.
    public init(children: [StartedChild]) {
        self.children = children
    }
}

/// The topology change that triggered a redistribution.
public enum RedistributionKind: String, Sendable, Hashable, Codable {
    /// A node joined.
    case nodeJoin
    /// A node left or was lost.
    case nodeLeave
}

/// Children are (about to be) redistributed after a topology change: the payload of
/// ``HookKey/preRedistribution`` and ``HookKey/postRedistribution``.
public struct RedistributionEvent: Sendable, Hashable, Codable {
    /// Whether nodes joined or left.
    public var kind: RedistributionKind
    /// The nodes that joined or left.
    public var nodes: [NodeID]

    /// Creates the payload.
    public init(kind: RedistributionKind, nodes: [NodeID]) {
        self.kind = kind
        self.nodes = nodes
    }
}

/// The children affected by a node join or leave are about to be redistributed: the payload of
/// ``HookKey/preChildrenRedistribution``.
public struct ChildrenRedistributionEvent: Sendable, Hashable, Codable {
    /// The affected children.
    public var children: [ChildID]
    /// Whether the node joined or left.
    public var kind: RedistributionKind
    /// The node that joined or left.
    public var node: NodeID

    /// Creates the payload.
    public init(children: [ChildID], kind: RedistributionKind, node: NodeID) {
        self.children = children
        self.kind = kind
        self.node = node
    }
}

/// A node forwarded children it should not host: the payload of ``HookKey/childrenForwarded``.
public struct ChildrenForwardedEvent: Sendable, Hashable, Codable {
    /// The forwarded children, by the node they were forwarded to.
    public var forwards: [NodeID: [ChildID]]

    /// Creates the payload.
    public init(forwards: [NodeID: [ChildID]]) {
        self.forwards = forwards
    }
}

/// The expansion handler finished forwarding children: the payload of
/// ``HookKey/migrationCompleted``.
public struct MigrationCompletedEvent: Sendable, Hashable, Codable {
    /// The nodes whose arrival caused the migration.
    public var nodes: [NodeID]
    /// The children forwarded.
    public var childIDs: [ChildID]

    /// Creates the payload.
    public init(nodes: [NodeID], childIDs: [ChildID]) {
        self.nodes = nodes
        self.childIDs = childIDs
    }
}

/// The hub's coordinator is shutting down: the payload of ``HookKey/coordinatorShutdown``.
public struct CoordinatorShutdownEvent: Sendable, Hashable, Codable {
    /// Why it shuts down.
    public var reason: String

    /// Creates the payload.
    public init(reason: String) {
        self.reason = reason
    }
}

/// A restart gave a child a new actor: the payload of ``HookKey/childPidUpdated``.
public struct ChildActorUpdatedEvent: Sendable, Hashable, Codable {
    /// The child.
    public var childID: ChildID
    /// The node where it was restarted.
    public var node: NodeID
    /// The new actor.
    public var actorID: ActorID

    /// Creates the payload.
    public init(childID: ChildID, node: NodeID, actorID: ActorID) {
        self.childID = childID
        self.node = node
        self.actorID = actorID
    }
}

/// Handover state reached migrated children: the payload of ``HookKey/handoverDelivered``.
public struct HandoverDeliveredEvent: Sendable, Hashable, Codable {
    /// The children that received their state.
    public var childIDs: [ChildID]
    /// The node they migrated to.
    public var targetNode: NodeID

    /// Creates the payload.
    public init(childIDs: [ChildID], targetNode: NodeID) {
        self.childIDs = childIDs
        self.targetNode = targetNode
    }
}

/// Children were parked until they consent to migrate: the payload of
/// ``HookKey/migrationDeferred``.
public struct MigrationDeferredEvent: Sendable, Hashable, Codable {
    /// The parked children.
    public var childIDs: [ChildID]

    /// Creates the payload.
    public init(childIDs: [ChildID]) {
        self.childIDs = childIDs
    }
}

/// A drain finished: the payload of ``HookKey/drainCompleted``.
public struct DrainCompletedEvent: Sendable, Hashable, Codable {
    /// How many children migrated normally.
    public var migrated: Int
    /// How many were stopped by force when the drain timed out.
    public var forced: Int

    /// Creates the payload.
    public init(migrated: Int, forced: Int) {
        self.migrated = migrated
        self.forced = forced
    }
}

/// The load balancer's leader updated its scoreboard: the payload of
/// ``HookKey/scoreboardUpdated``.
public struct ScoreboardUpdatedEvent: Sendable, Hashable, Codable {
    /// Each node's score.
    public var scores: [NodeID: Double]
    /// The leader that computed them.
    public var node: NodeID

    /// Creates the payload.
    public init(scores: [NodeID: Double], node: NodeID) {
        self.scores = scores
        self.node = node
    }
}
