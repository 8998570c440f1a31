import ClusterNode

/// Everything that can happen to a hub, as the hub's state machine (``HubMachine``) sees it.
///
/// The driver turns each event of the outside world into one input and hands it to
/// ``HubMachine/handle(_:now:)`` in arrival order; the machine answers with ``HubEffect``s.
package enum HubInput: Sendable {
    /// The hub started on this node: arm the periodic timers.
    case hubStarted
    /// The engine reports a node reachable (an authenticated link is up).
    case memberUp(NodeID)
    /// The engine reports a node gone: it left, its link broke, or it missed its heartbeats.
    case memberDown(NodeID, reason: MemberDownReason)
    /// A hub message from the same hub on another node.
    case received(HubEnvelope, from: NodeID)
    /// A request of this node's API, identified by the operation id its answer will carry.
    case command(OperationID, HubCommand)
    /// A timer the machine set (``HubEffect/setTimer(_:after:)``) fired.
    case timerFired(HubTimer)
    /// What the local supervisor did with the children the machine gave it.
    case supervisor([SupervisorReport])
    /// A strategy on this node sends `envelope` to the same strategy on these nodes
    /// (``StrategyHost/send(_:on:to:)``): it travels in order with the hub's own messages.
    case strategyMessage(StrategyEnvelope, to: [NodeID])
    /// The local node was promoted from local-only to a reachable identity: everything the
    /// machine holds under its old id names the new one from now on.
    case renamed(to: NodeID)
    /// The answers to ``HubEffect/askConsent(_:round:within:)`` `round`: the children in `ready`
    /// consented; every other child of the round deferred, or did not answer in time.
    case consentAnswered(round: UInt64, ready: Set<ChildID>)
}

/// Why the engine gave up on a node.
package enum MemberDownReason: String, Sendable, Hashable, Codable {
    /// It said goodbye.
    case left
    /// Its connection broke (the process died, or the network cut it).
    case connectionLost
    /// It was silent for longer than the failure detector allows (stalled, or cut off).
    case heartbeatTimeout
    /// A newer incarnation of the same endpoint replaced it.
    case replaced
}

/// Names one API request from its input to its ``HubEffect/complete(_:_:)``.
package struct OperationID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The driver's number for the request; unique per machine.
    package var raw: UInt64
    /// Creates an id.
    package init(_ raw: UInt64) { self.raw = raw }
    package static func < (a: Self, b: Self) -> Bool { a.raw < b.raw }
    package var description: String { "op\(raw)" }
}

/// What a user asked the hub to do.
package enum HubCommand: Sendable {
    /// Start children, placed by the distribution strategy.
    case start([ChildSpec], StartCommand)
    /// Stop children wherever they run; a stop is remembered so nothing brings them back.
    case stop([ChildID], StopCommand)
    /// Move one child hosted on this node to `target`, with the migration strategy's steps.
    case migrate(ChildID, to: NodeID)
    /// Stop taking children and move every local child to its new owner; completes when moved.
    /// With `askingConsentFor` (and a strategy with ``MigrationConsent``), children are asked
    /// first, as by any move, and those still deferring after that long move anyway; without it
    /// (a graceful stop), nothing is asked.
    case drain(askingConsentFor: Duration? = nil)
    /// Move these deferred children now, without asking them again (``ProcessHub/migrationReady(_:)``).
    case migrationReady(Set<ChildID>)
    /// Leave the hub: tell the peers, then stop whatever is still local.
    case leave
    /// Start the configuration's static children that nothing runs yet (once this node has
    /// synced with its peers); a hub without quorum keeps them for when it returns.
    case startStatic([ChildSpec])
    /// Count the majority of a quorum from this cluster size (``ProcessHub/resetQuorumClusterSize(_:)``).
    case resetQuorumSize(Int)
    /// Answer `.done` once every input before it was handled: the driver's start waits for it,
    /// so what the API reads (quorum, nodes) reflects the hub's start. Never held.
    case ready
    /// Fault injection for tests: forget `node`'s slots here, as if every change of them had been
    /// lost on the way; only the synchronisation round can bring them back.
    case forgetSlots(of: NodeID)
}

/// The options of a start request.
package struct StartCommand: Sendable, Hashable {
    /// Whether the answer waits for every child's outcome (else it completes once dispatched).
    package var awaited: Bool
    /// How long an awaited start may take before the children still pending fail.
    package var timeout: Duration
    /// Refuse children whose id the registry already lists.
    package var checkExisting: Bool
    /// Metadata stored with each child.
    package var metadata: [ChildID: ChildMetadata]
    /// The nodes each child must run on, when the distribution strategy places by the start's
    /// mapping (``DistributionStrategy/placesByChildMapping``); empty otherwise.
    package var placement: [ChildID: [NodeID]]

    /// Creates the options.
    package init(
        awaited: Bool = true, timeout: Duration = .seconds(10), checkExisting: Bool = true,
        metadata: [ChildID: ChildMetadata] = [:], placement: [ChildID: [NodeID]] = [:]
    ) {
        self.awaited = awaited
        self.timeout = timeout
        self.checkExisting = checkExisting
        self.metadata = metadata
        self.placement = placement
    }
}

/// The options of a stop request.
package struct StopCommand: Sendable, Hashable {
    /// Whether the answer waits for every host's confirmation.
    package var awaited: Bool
    /// How long an awaited stop may take.
    package var timeout: Duration

    /// Creates the options.
    package init(awaited: Bool = true, timeout: Duration = .seconds(10)) {
        self.awaited = awaited
        self.timeout = timeout
    }
}

/// One thing the supervisor reports about a local child.
package enum SupervisorReport: Sendable, Hashable {
    /// A child the machine asked for runs, as `ActorID`.
    case started(ChildID, ActorID)
    /// A hook rewrote a child's start data before it started (``AlterHookKey/childDataAlter``):
    /// the registry lists what runs. Comes before the child's ``started(_:_:)``.
    case startDataAltered(ChildID, spec: ChildSpec, metadata: ChildMetadata)
    /// A child the machine asked for could not be created.
    case startFailed(ChildID, ChildError)
    /// A running child crashed and runs again under a new actor id (restart intensity allowing).
    case restarted(ChildID, ActorID)
    /// A child the machine asked to stop has stopped.
    case stopped(ChildID)
    /// A child ended by itself for good: a normal exit of a transient or temporary child, or a
    /// crash after the restart intensity was spent. It is removed cluster-wide, like a stop.
    case ended(ChildID)
    /// The state captured for a handover (`nil`: the child has none to give, or it timed out).
    case stateCaptured(ChildID, HandoverPayload?)
}

/// The machine's timers. At most one of each is armed at a time.
package enum HubTimer: Hashable, Sendable, CustomStringConvertible {
    /// The debounce window of the current topology batch has ended.
    case topologyFlush
    /// Time for the periodic full synchronisation of this node's slots.
    case syncRound
    /// Time to look again at children nobody runs (after a join, a heal, or a missed recovery).
    case reconcile
    /// Time to stop local duplicates that outlived the grace.
    case duplicateCheck
    /// An awaited operation's deadline.
    case operationDeadline(OperationID)
    /// A migration step waited too long.
    case migrationDeadline(UInt64)
    /// Instances holding their calls for a handover that never came are released.
    case heldCallsExpiry
    /// Commands held while this node syncs with newly reachable peers may run now.
    case heldCommands
    /// Children of a start that a target refused for a passing reason (it was partitioned or
    /// leaving) are placed again.
    case startRetry(OperationID)
    /// Children that deferred their move are asked again (``MigrationConsent/retryInterval``).
    case consentRetry
    /// The consent a drain waits for is over: what still defers moves anyway.
    case drainConsentDeadline
    /// Gossip: a gap in some origin's changes may have lasted long enough to pull its slots.
    case gossipGap

    package var description: String {
        switch self {
        case .topologyFlush: "topologyFlush"
        case .syncRound: "syncRound"
        case .reconcile: "reconcile"
        case .duplicateCheck: "duplicateCheck"
        case .operationDeadline(let op): "deadline(\(op))"
        case .migrationDeadline(let id): "migrationDeadline(\(id))"
        case .heldCallsExpiry: "heldCallsExpiry"
        case .heldCommands: "heldCommands"
        case .startRetry(let op): "startRetry(\(op))"
        case .consentRetry: "consentRetry"
        case .drainConsentDeadline: "drainConsentDeadline"
        case .gossipGap: "gossipGap"
        }
    }
}
