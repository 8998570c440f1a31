import Distributed

/// The well-known system actor of every node: it creates and stops actors of registered kinds
/// on behalf of other nodes.
distributed actor NodeAgent {
    typealias ActorSystem = ClusterSystem

    static let wellKnownName = "node-agent"

    /// Creates an actor of a registered kind on this node.
    distributed func spawn(kind: String, arguments: [UInt8]) async throws -> ClusterSystem.ActorID {
        try await actorSystem.spawnLocally(kind: kind, arguments: .init(bytes: arguments))
    }

    /// Lets go of an actor created by kind; returns whether it was held.
    distributed func stop(_ id: ClusterSystem.ActorID) -> Bool {
        actorSystem.release(id)
    }

    /// Creates this node's agent (once, at node start).
    static func start(on system: ClusterSystem) -> NodeAgent {
        system.withWellKnownName(wellKnownName) { NodeAgent(actorSystem: system) }
    }

    /// The agent of `node`.
    static func resolve(on node: NodeID, system: ClusterSystem) throws -> NodeAgent {
        try NodeAgent.resolve(id: ClusterSystem.ActorID(node: node, wellKnownName: wellKnownName), using: system)
    }
}
