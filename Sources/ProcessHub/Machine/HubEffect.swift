import ClusterNode

/// What the hub's state machine asks its driver to do. The driver carries effects out in order
/// and reports back through ``HubInput`` (a supervisor report, a message, a timer).
package enum HubEffect: Sendable {
    /// Send a message to the same hub on `node` (FIFO per peer; may be lost if the link breaks).
    case send(HubEnvelope, to: NodeID)
    /// Create these children here; each is answered by ``SupervisorReport/started(_:_:)`` or
    /// ``SupervisorReport/startFailed(_:_:)``.
    case startChildren([ChildLaunch])
    /// Stop these local children; each is answered by ``SupervisorReport/stopped(_:)``.
    case stopChildren([ChildID], StopCause)
    /// Capture the handover state of these local children (``SupervisorReport/stateCaptured(_:_:)``).
    case captureStates([ChildID])
    /// Hold calls to these local instances from now on: their state is being handed over.
    case sealCalls([ChildID])
    /// Apply states to local instances started with ``ChildLaunch/holdsCalls`` and release their
    /// held calls (every listed child is released, with or without a state).
    case deliverStates([ChildID: HandoverPayload], release: [ChildID])
    /// Ask these local children whether they may move now (``MigrationConsent``), all at once
    /// and within one shared deadline `within`: answered by one
    /// ``HubInput/consentAnswered(round:ready:)`` carrying `round`, once every child answered or
    /// the deadline passed. A child that did not answer in time counts as deferring.
    case askConsent([ChildID], round: UInt64, within: Duration)
    /// Fire a hook.
    case hook(HubEvent)
    /// Arm (or re-arm) a timer.
    case setTimer(HubTimer, after: Duration)
    /// Disarm a timer; firing after this is ignored by the machine anyway.
    case cancelTimer(HubTimer)
    /// Answer an API request.
    case complete(OperationID, OperationOutcome)
    /// The registry changed: publish the machine's registry to the lock-cheap read side.
    case registryChanged([RegistryChange])
    /// Something an operator should read.
    case log(MachineLogLevel, String)
    /// Hand a peer's strategy message to this node's ``StrategyHost``.
    case deliverStrategyMessage(StrategyEnvelope, from: NodeID)
}

/// How the driver should start one local child.
package struct ChildLaunch: Sendable, Hashable {
    /// The child.
    package var spec: ChildSpec
    /// The metadata registered with it.
    package var metadata: ChildMetadata
    /// A handed-over state to begin with.
    package var state: HandoverPayload?
    /// Hold its calls until ``HubEffect/deliverStates(_:release:)`` (HotSwap with handover).
    package var holdsCalls: Bool
    /// The child's id.
    package var id: ChildID { spec.id }
}

/// Why the machine stops a local child.
package enum StopCause: String, Sendable, Hashable {
    /// A user stopped it.
    case requested
    /// It moved to another node.
    case migrated
    /// Another node runs it where the strategies place it; this copy goes.
    case duplicate
    /// This node lost quorum.
    case partitioned
    /// The hub leaves this node.
    case shutdown
}

/// What a hub event tells hooks and operators.
package enum HubEvent: Sendable, Hashable {
    /// A node joined the hub (its batch was applied).
    case nodeJoined(NodeID)
    /// A node left the hub.
    case nodeLeft(NodeID)
    /// This node lost quorum and stopped its children.
    case partitioned
    /// This node has quorum again.
    case quorumRegained
    /// Tell these local replicas their new role (``Replication``'s active/passive signals).
    case replicaRoles([ChildID: ReplicaMode])
    /// A topology batch's redistribution after `nodes` joined or left begins, or is `done`
    /// (``HookKey/preRedistribution``, ``HookKey/postRedistribution``).
    case redistribution(RedistributionKind, nodes: [NodeID], done: Bool)
    /// This node passed a peer's start of these children on to the nodes they are placed on
    /// (``HookKey/childrenForwarded``).
    case childrenForwarded([NodeID: [ChildID]])
    /// These local children are about to move to `node` (``HookKey/preChildrenRedistribution``).
    case childrenRedistributing([ChildID], RedistributionKind, node: NodeID)
    /// Migration `id` of `children` children to `target` began here (it ends with
    /// ``migrationEnded(_:)``, moved or aborted).
    case migrationBegan(UInt64, children: Int, to: NodeID)
    /// Migration `id` ended.
    case migrationEnded(UInt64)
    /// A child moved off this node to `target` (``HookKey/migrationCompleted``).
    case migrated(ChildID, to: NodeID)
    /// This node handed the states of these children over to `target`, and they moved
    /// (``HookKey/handoverDelivered``).
    case handoverDelivered([ChildID], to: NodeID)
    /// These local children did not consent to move yet: they stay here for now
    /// (``HookKey/migrationDeferred``).
    case migrationDeferred([ChildID])
    /// A drain finished: nothing is left to move; `migrated` children moved during it, and
    /// `forced` more moved although they still deferred (``HookKey/drainCompleted``).
    case drainCompleted(migrated: Int, forced: Int)
    /// The hub leaves this node (``HookKey/coordinatorShutdown``).
    case shutdown
}

/// How loud a machine log line is.
package enum MachineLogLevel: String, Sendable, Hashable {
    case debug, info, warning
}

/// How an API request ended.
package enum OperationOutcome: Sendable, Hashable {
    /// Dispatched, not awaited.
    case dispatched
    /// Per-child outcomes of a start or a stop.
    case children([ChildOutcome])
    /// The whole request was refused.
    case failed(HubError)
    /// A leave or migration finished.
    case done
    /// A drain finished; `forced` of its children moved although they still deferred.
    case drained(forced: Int)
}

/// How one child of a request went.
package struct ChildOutcome: Sendable, Hashable {
    /// The child.
    package var childID: ChildID
    /// Where it runs (a start), empty for a stop.
    package var actorIDs: [ActorID]
    /// Why it failed, if it did.
    package var error: ChildError?

    /// Creates an outcome.
    package init(childID: ChildID, actorIDs: [ActorID] = [], error: ChildError? = nil) {
        self.childID = childID
        self.actorIDs = actorIDs
        self.error = error
    }
}
