import ClusterNode

/// How many instances of each child run, and which of them is active (SPEC §4.2). The hub asks
/// it for the replication factor and passes that to the distribution strategy.
public protocol RedundancyStrategy: Sendable {
    /// How many distinct nodes each child runs on, given the number of hub nodes.
    func replicationFactor(hubNodeCount: Int) -> Int

    /// The role of the instance on `node`, one of the child's `nodes`.
    func mode(of childID: ChildID, on node: NodeID, nodes: [NodeID]) -> ReplicaMode

    /// Whether an instance is told (``HubProcess/redundancySignal(_:)``) that it has `mode`.
    func signals(_ mode: ReplicaMode) -> Bool
}

extension RedundancyStrategy {
    /// Every instance is active.
    public func mode(of childID: ChildID, on node: NodeID, nodes: [NodeID]) -> ReplicaMode { .active }

    /// No signals.
    public func signals(_ mode: ReplicaMode) -> Bool { false }
}

/// Exactly one instance per child (the default).
public struct Singularity: RedundancyStrategy {
    /// Creates the strategy.
    public init() {}

    /// Always 1.
    public func replicationFactor(hubNodeCount: Int) -> Int { 1 }
}
