import ClusterNode

/// A start request sent to a node that is to host some children.
struct StartRequest: Codable, Sendable {
    /// The node that issued the start (authors the registry rows).
    var originator: NodeID
    /// The originator's placement signature; a receiver with the same one skips re-placement.
    var signature: UInt64
    /// The children, each with the nodes it was placed on.
    var children: [ChildStartData]
    /// Set when a node forwards children whose placement it computed differently: the receiver
    /// then starts them as sent, so two disagreeing views cannot bounce a child forever.
    var isForwarded: Bool = false
    /// Migration with handover: states to apply to the new instances before they are registered.
    var handoverStates: [ChildID: HandoverPayload] = [:]
    /// Migration by ``HotSwap`` with handover: the new instances hold their remote calls until the
    /// origin delivers their states (``HandoverDelivery``).
    var holdsCalls: Bool = false
    /// Restarts of children lost with a node (or kept in a partition manifest), not a user's
    /// start: a receiver that stopped one of them on purpose recently refuses it with
    /// ``ChildError/Code/stopped`` (``StopLedger``).
    var isRecovery: Bool = false
    /// The epochs of children that are restarted or moved, not started anew: their instances
    /// keep the row's epoch, so a stop made meanwhile still covers them (``StopLedger``). A child
    /// without one is a new start and authors a newer epoch than any this node knows of it.
    var epochs: [ChildID: UInt64] = [:]
}

/// States for instances started with ``StartRequest/holdsCalls``; every listed child's calls are
/// released, with or without a state.
struct HandoverDelivery: Codable, Sendable {
    var childIDs: [ChildID]
    var states: [ChildID: HandoverPayload]
}

/// A node's answer to a start request (outcomes of forwarded children included).
struct StartReply: Codable, Sendable {
    var outcomes: [ChildStartOutcome]
}

/// How one child of a start request went, on one node.
struct ChildStartOutcome: Codable, Sendable {
    var childID: ChildID
    var node: NodeID
    var actorID: ActorID?
    var error: ChildError?
}

/// A stop request sent to a node that hosts some children.
struct StopRequest: Codable, Sendable {
    var originator: NodeID
    var childIDs: [ChildID]
}

/// How one child of a stop request went, on one node.
struct ChildStopOutcome: Codable, Sendable {
    var childID: ChildID
    var node: NodeID
    var error: ChildError?
}

/// A registry change pushed by the node that owns the slots concerned.
enum RegistryUpdate: Codable, Sendable {
    case registered([RegistryEntry])
    case unregistered([ChildID])
    case actorUpdated(ChildID, ActorID)
    /// Ends a snapshot push (its entries came as `registered` chunks): the sender hosts exactly
    /// these children, so its other slots are withdrawn.
    case snapshotComplete([ChildID])
    /// Opens a snapshot push: it holds every change of the sender up to this number (Gossip
    /// orders changes by it; PubSub ignores it).
    case snapshotBegins(UInt64)
    /// Tombstones: children stopped on purpose, each at the epoch of the stopped instance
    /// (``StopLedger``). Sent with every stop, and in snapshots.
    case stopped([ChildID: UInt64])
}

/// "I run this hub". The registry slots follow as a snapshot push (in chunks: a node may host
/// hundreds of thousands of children, more than one frame may carry).
struct HubAnnouncement: Codable, Sendable {
    var node: NodeID
    /// A draining node answers announcements but must not be admitted again.
    var isDraining = false
    /// Children the sender stopped on purpose while the receiver was away (``StopLedger``).
    var stoppedWhileAway: [ChildID]? = nil
    /// The epochs of those stops, in the same order (absent from older peers).
    var stopEpochs: [UInt64]? = nil

    /// An announcement carrying `stops` (tombstones) as ``stoppedWhileAway`` and ``stopEpochs``.
    init(node: NodeID, isDraining: Bool = false, stops: [ChildID: UInt64]) {
        let sorted = stops.sorted { $0.key < $1.key }
        self.init(node: node, isDraining: isDraining, stoppedWhileAway: sorted.map(\.key), stopEpochs: sorted.map(\.value))
    }

    init(node: NodeID, isDraining: Bool = false, stoppedWhileAway: [ChildID]? = nil, stopEpochs: [UInt64]? = nil) {
        self.node = node
        self.isDraining = isDraining
        self.stoppedWhileAway = stoppedWhileAway
        self.stopEpochs = stopEpochs
    }
}

extension Array {
    /// The array cut into consecutive pieces of at most `size` elements.
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}

extension RegistryUpdate {
    /// The update cut into messages of bounded size (``HubTuning/entriesPerMessage``,
    /// ``HubTuning/idsPerMessage``), so every frame stays far below the maximum frame size
    /// whatever the number of children.
    func chunked(_ tuning: HubTuning) -> [RegistryUpdate] {
        switch self {
        case .registered(let entries):
            entries.chunked(tuning.entriesPerMessage).map { .registered(Array($0)) }
        case .unregistered(let ids):
            ids.chunked(tuning.idsPerMessage).map { .unregistered(Array($0)) }
        case .stopped(let stops):
            Array(stops).chunked(tuning.idsPerMessage).map { .stopped(Dictionary(uniqueKeysWithValues: $0.map { ($0.key, $0.value) })) }
        case .actorUpdated, .snapshotComplete, .snapshotBegins:
            [self]
        }
    }
}

// MARK: Gossip (SPEC §4.4.2)

/// A registry change of `origin`'s slots on its way through the cluster, with the nodes that
/// already have it.
struct GossipChange: Codable, Sendable {
    var origin: NodeID
    /// The origin's number for it: changes of one origin are applied in this order.
    var seq: UInt64
    var update: RegistryUpdate
    var acks: [NodeID]
}

/// What a node's slots look like, in a few bytes: a peer whose view of them differs pulls them.
struct SlotDigest: Codable, Sendable, Equatable {
    /// The node's latest change at the time (``GossipLedger/lastStamped``).
    var seq: UInt64
    var count: Int
    /// Order-independent hash of (child id, actor serial) over the slots.
    var hash: UInt64
}

/// A digest round: collects every node's digest, then lets each node compare them with its view.
struct GossipRound: Codable, Sendable {
    var id: UInt64
    var digests: [NodeID: SlotDigest]
    var acks: [NodeID]
}
