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
}

/// "I run this hub": who I am and my own registry slots.
struct HubAnnouncement: Codable, Sendable {
    var node: NodeID
    var entries: [RegistryEntry]
}
