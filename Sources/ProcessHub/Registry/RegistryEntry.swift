import ClusterNode

/// One node's slot of one child, as it travels between nodes: in register broadcasts and in a
/// node's periodic sync payload.
///
/// The hosting node is `actorID.node`. Only that node authors the slot; `spec`, `metadata`, `epoch`
/// and `authoredBy` are the version of the child's row the sender knows, merged on arrival with the
/// epoch rule (see ``ChildRegistry``).
struct RegistryEntry: Sendable, Codable, Hashable {
    /// The child's spec (its id is the registry key).
    var spec: ChildSpec
    /// The child's metadata.
    var metadata: ChildMetadata
    /// The row version: bumped by every authored write (start, metadata update).
    var epoch: UInt64
    /// The node that authored this version; breaks ties between equal epochs (lower wins).
    var authoredBy: NodeID
    /// The instance's actor id on its hosting node.
    var actorID: ActorID

    /// Creates an entry.
    init(spec: ChildSpec, metadata: ChildMetadata = [:], epoch: UInt64, authoredBy: NodeID, actorID: ActorID) {
        self.spec = spec
        self.metadata = metadata
        self.epoch = epoch
        self.authoredBy = authoredBy
        self.actorID = actorID
    }

    /// The child's id.
    var childID: ChildID { spec.id }

    /// The node hosting this instance, and so the only node that may write this slot.
    var node: NodeID { actorID.node }
}

/// What a registry write changed, so the hub can fire its hooks.
package enum RegistryChange: Hashable, Sendable {
    /// A slot was added, or its actor id changed.
    case registered(ChildID, ChildLocation)
    /// The slot of that node was withdrawn.
    case unregistered(ChildID, NodeID)
}
