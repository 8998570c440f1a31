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

    // Entries travel by the thousand: flat unkeyed values cost a fraction of keyed Codable's
    // per-field work (which was a third of a 10 000-child start on the driver).

    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        let version = try container.decodeRowVersion()
        self.init(spec: version.spec, metadata: version.metadata, epoch: version.epoch, authoredBy: version.authoredBy, actorID: try container.decodeActorID())
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encodeRowVersion(RegistryEntryDraft(spec: spec, metadata: metadata, epoch: epoch, authoredBy: authoredBy))
        try container.encodeActorID(actorID)
    }
}

extension UnkeyedEncodingContainer {
    /// A row's version as flat values: the spec, the metadata, the epoch and the author.
    mutating func encodeRowVersion(_ draft: RegistryEntryDraft) throws {
        try encodeSpec(draft.spec)
        try encodeMetadata(draft.metadata)
        try encode(draft.epoch)
        try encodeNode(draft.authoredBy)
    }

    /// A node as four flat values.
    mutating func encodeNode(_ node: NodeID) throws {
        try encode(node.name)
        try encode(node.host)
        try encode(node.port)
        try encode(node.incarnation)
    }

    /// An actor id as its node, its serial and its well-known name if it has one.
    mutating func encodeActorID(_ id: ActorID) throws {
        try encodeNode(id.node)
        try encode(id.serial)
        try encode(id.wellKnownName != nil)
        if let name = id.wellKnownName { try encode(name) }
    }
}

extension UnkeyedDecodingContainer {
    mutating func decodeRowVersion() throws -> RegistryEntryDraft {
        RegistryEntryDraft(
            spec: try decodeSpec(), metadata: try decodeMetadata(), epoch: try decode(UInt64.self), authoredBy: try decodeNode())
    }

    mutating func decodeNode() throws -> NodeID {
        NodeID(name: try decode(String.self), host: try decode(String.self), port: try decode(Int.self), incarnation: try decode(UInt64.self))
    }

    mutating func decodeActorID() throws -> ActorID {
        var id = ActorID(node: try decodeNode(), serial: try decode(UInt64.self))
        if try decode(Bool.self) { id.wellKnownName = try decode(String.self) }
        return id
    }
}

/// What a registry write changed, so the hub can fire its hooks.
package enum RegistryChange: Hashable, Sendable {
    /// A slot was added, or its actor id changed.
    case registered(ChildID, ChildLocation)
    /// The slot of that node was withdrawn.
    case unregistered(ChildID, NodeID)
}
