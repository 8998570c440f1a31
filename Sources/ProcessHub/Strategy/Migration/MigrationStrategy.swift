import ClusterNode

/// Moves children when the hub's topology changes (SPEC §4.3): after a node joins, every node
/// hands it the children whose primary it now is.
public protocol MigrationStrategy: Sendable {
    /// Moves `children` (running on this node) to their new primary nodes.
    func migrate(_ children: [ChildMove], using mover: any ChildMover) async
}

/// One child leaving this node for its new primary.
public struct ChildMove: Sendable, Hashable {
    /// The child's registry data.
    public var data: ChildStartData
    /// Its new primary node.
    public var target: NodeID

    /// Creates a move.
    public init(data: ChildStartData, target: NodeID) {
        self.data = data
        self.target = target
    }
}

/// What a migration strategy may do: the hub's operations, handed to the strategy.
public protocol ChildMover: Sendable {
    /// Stops the local instances of `ids` and withdraws them from the registry cluster-wide.
    func stopLocally(_ ids: [ChildID]) async
    /// Starts `children` on `node` (one request) and returns how each went.
    func start(_ children: [ChildStartData], on node: NodeID) async -> [ChildID: Result<ActorID, ChildError>]
}

/// Stops the old instance first, then starts the new one (the default): a child is briefly absent
/// and starts fresh on its new node.
public struct ColdSwap: MigrationStrategy {
    /// Creates the strategy.
    public init() {}

    /// Stops every moving child here, then starts each batch on its target.
    public func migrate(_ children: [ChildMove], using mover: any ChildMover) async {
        guard !children.isEmpty else { return }
        await mover.stopLocally(children.map(\.data.childID))
        let byTarget = Dictionary(grouping: children, by: \.target)
        await withTaskGroup(of: Void.self) { group in
            for (target, moves) in byTarget {
                group.addTask { _ = await mover.start(moves.map(\.data), on: target) }
            }
        }
    }
}
