import ClusterNode

/// A child's id: unique across the whole hub cluster.
public typealias ChildID = String

/// Free-form metadata stored with a child in the registry and synchronised with it.
/// The key `tag` is what ``ProcessHub/children(taggedWith:)`` matches.
public typealias ChildMetadata = [String: String]

/// The name of a hub. Nodes running a hub with the same id form one hub cluster; a node may run
/// several hubs with different ids.
public struct HubID: Hashable, Sendable, Codable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The name.
    public var name: String
    /// Creates a hub id.
    public init(_ name: String) { self.name = name }
    /// Creates a hub id from a literal.
    public init(stringLiteral value: String) { self.init(value) }
    /// The name.
    public var description: String { name }
}

/// The registered name of a kind of child: what a ``ChildSpec`` refers to. Only kinds registered
/// on a node can be started there.
public struct HubKind: Hashable, Sendable, Codable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The name.
    public var name: String
    /// Creates a kind name.
    public init(_ name: String) { self.name = name }
    /// Creates a kind name from a literal.
    public init(stringLiteral value: String) { self.init(value) }
    /// The name.
    public var description: String { name }
}

/// Where one instance of a child runs: its node and its actor's id there.
public struct ChildLocation: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The instance's actor id.
    public var actorID: ActorID
    /// The node hosting the instance (its actor id's node: stored once, as every node keeps a
    /// location per child).
    public var node: NodeID { actorID.node }
    /// Creates a location. The node is always `actorID`'s node; `node` is accepted for clarity
    /// at call sites and otherwise ignored.
    public init(node: NodeID, actorID: ActorID) {
        self.actorID = actorID
    }

    /// Creates the location of `actorID`.
    public init(_ actorID: ActorID) {
        self.actorID = actorID
    }
    /// `actorID`.
    public var description: String { actorID.description }
}

/// Everything the registry knows about a child.
public struct ChildInfo: Sendable, Hashable {
    /// The child's spec.
    public var spec: ChildSpec
    /// Where its instances run (one per node; several with replication), ordered by node.
    public var locations: [ChildLocation]
    /// Its metadata.
    public var metadata: ChildMetadata

    /// Creates a registry entry view.
    public init(spec: ChildSpec, locations: [ChildLocation], metadata: ChildMetadata) {
        self.spec = spec
        self.locations = locations
        self.metadata = metadata
    }

    /// The child's id.
    public var id: ChildID { spec.id }
}
