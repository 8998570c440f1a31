/// The identity of a distributed actor; see ``ClusterSystem/ActorID``.
public typealias ActorID = ClusterSystem.ActorID

extension ClusterSystem {
/// The identity of a distributed actor in the cluster: the node it lives on and its number there.
///
/// Serials are assigned by the node, starting above a reserved range. Well-known system actors
/// (one per node, found without a lookup) have serial 0 and a name instead.
public struct ActorID: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The node (and the incarnation of it) where the actor lives.
    public var node: NodeID
    /// The actor's number on its node; 0 for well-known actors.
    public var serial: UInt64
    /// The well-known name, for system actors only.
    public var wellKnownName: String?

    /// An actor numbered by its node.
    public init(node: NodeID, serial: UInt64) {
        self.node = node
        self.serial = serial
        self.wellKnownName = nil
    }

    /// The well-known actor `name` on `node`.
    public init(node: NodeID, wellKnownName name: String) {
        self.node = node
        self.serial = 0
        self.wellKnownName = name
    }

    var localRef: LocalActorRef {
        if let wellKnownName { return .name(wellKnownName) }
        return .serial(serial)
    }

    /// `name@host:port#incarnation/serial` or `…/$name`.
    public var description: String {
        if let wellKnownName { return "\(node)/$\(wellKnownName)" }
        return "\(node)/\(serial)"
    }
}
}
