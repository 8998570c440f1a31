import ClusterNode

/// Decides whether this hub node may keep running its children given the hub nodes it can reach
/// (SPEC §4.5). The quorum strategies arrive with the partition issue.
public protocol PartitionToleranceStrategy: Sendable {
    /// Whether the hub, seeing `reachable` hub nodes (itself included), keeps its children.
    func hasQuorum(reachable: [NodeID]) -> Bool
}

/// Never partitioned: each side of a split keeps running (the default). Duplicates are resolved
/// when the sides meet again.
public struct Divergence: PartitionToleranceStrategy {
    /// Creates the strategy.
    public init() {}

    /// Always `true`.
    public func hasQuorum(reachable: [NodeID]) -> Bool { true }
}
