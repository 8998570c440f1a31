import ClusterNode

/// The bookkeeping types of ``HubMachine``: plain values, one per thing it waits for.
extension HubMachine {
    /// A change of the hub's nodes, gathered into a batch.
    enum TopologyEvent: Sendable, Hashable {
        case joined(NodeID)
        case left(NodeID)
        case drained(NodeID)
    }

    /// A stop this node remembers.
    struct TombstoneRecord: Sendable, Hashable {
        /// Every instance of this row version or older is a leftover.
        var epoch: UInt64
        /// When it is forgotten.
        var expiresAt: Duration
    }

    /// A child whose every instance was lost (its node went down, or quorum was lost).
    struct Orphan: Sendable, Hashable {
        var draft: RegistryEntryDraft
        /// When it became an orphan: recovery requests to other nodes wait for the grace.
        var since: Duration
        /// When this node last asked its owner to start it.
        var askedAt: Duration? = nil
        /// The node it was moving to when its last instance went: it is not restarted while that
        /// node may still register it (a peer, within the grace).
        var inTransitTo: NodeID? = nil
    }

    /// One child this node hosts, or is about to.
    struct LocalChild: Sendable, Hashable {
        var draft: RegistryEntryDraft
        var phase: Phase
        /// Who waits for it to start.
        var waiters: [Waiter] = []

        enum Phase: Sendable, Hashable {
            case starting
            case running(ActorID)
            case stopping(StopCause)
        }
    }

    /// Who is told when a local child has started (or failed to).
    enum Waiter: Sendable, Hashable {
        case operation(OperationID)
        case inbound(InboundKey)
    }

    /// A start request from a peer, answered once each of its children has an outcome.
    struct InboundKey: Sendable, Hashable {
        var peer: NodeID
        var requestID: UInt64
    }

    struct InboundStart: Sendable {
        var remaining: Set<ChildID>
        /// Under gossip, this node's last change the requester had applied when it asked.
        var knownChanges: UInt64? = nil
        var outcomes: [ChildStartOutcome] = []
    }

    /// A request this node sent.
    struct OutboundRequest: Sendable, Hashable {
        var peer: NodeID
        var purpose: Purpose
        var childIDs: [ChildID]

        enum Purpose: Sendable, Hashable {
            /// Part of a user's start (or its re-dispatch after a target went down).
            case start(OperationID)
            /// A stop; the operation waits for this host's answer.
            case stop(OperationID)
            /// A recovery start sent to a child's owner; nobody waits.
            case recovery
            /// A migration's start on its target.
            case migration(UInt64)
            /// A peer's start that this node passed on to the children's owner; its answer
            /// answers the peer's request.
            case forward(InboundKey)
        }
    }

    /// An API request not answered yet.
    struct PendingOperation: Sendable, Hashable {
        var awaited: Bool
        /// The children in request order.
        var order: [ChildID]
        /// Children not answered yet, with the nodes still to answer.
        var waiting: [ChildID: Set<NodeID>]
        var actorIDs: [ChildID: [ActorID]] = [:]
        var errors: [ChildID: ChildError] = [:]
        /// Row versions of a start's children, to dispatch them again.
        var drafts: [ChildID: RegistryEntryDraft] = [:]
        /// How many times each child was placed.
        var attempts: [ChildID: Int] = [:]
        /// Children refused for a passing reason, placed again when ``HubTimer/startRetry(_:)`` fires.
        var retrying: Set<ChildID> = []
    }

    /// Children on their way from this node to `target`.
    struct Migration: Sendable, Hashable {
        var id: UInt64
        var target: NodeID
        var drafts: [ChildID: RegistryEntryDraft]
        var steps: [MigrationStep]
        var next = 0
        var states: [ChildID: HandoverPayload] = [:]
        /// Captures not reported yet.
        var capturing: Set<ChildID> = []
        /// The start requests on the target not answered yet.
        var pendingStarts: Set<UInt64> = []
        /// Whether the local instances are already stopped (a failed start then loses nothing:
        /// the children become orphans and are started where they belong).
        var originStopped = false
        var operation: OperationID?

        var ids: [ChildID] { drafts.keys.sorted() }
    }
}

extension RegistryEntryDraft {
    /// The registry entry of this child's instance `actorID`.
    func entry(actorID: ActorID) -> RegistryEntry {
        RegistryEntry(spec: spec, metadata: metadata, epoch: epoch, authoredBy: authoredBy, actorID: actorID)
    }

    /// The row version of `entry`.
    init(_ entry: RegistryEntry) {
        self.init(spec: entry.spec, metadata: entry.metadata, epoch: entry.epoch, authoredBy: entry.authoredBy)
    }

    var id: ChildID { spec.id }
}
