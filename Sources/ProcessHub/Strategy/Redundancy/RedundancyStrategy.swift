/// How many instances of each child run (SPEC §4.2). The hub asks it for the replication factor
/// and passes that to the distribution strategy.
public protocol RedundancyStrategy: Sendable {
    /// How many distinct nodes each child runs on, given the number of hub nodes.
    func replicationFactor(hubNodeCount: Int) -> Int
}

/// Exactly one instance per child (the default).
public struct Singularity: RedundancyStrategy {
    /// Creates the strategy.
    public init() {}

    /// Always 1.
    public func replicationFactor(hubNodeCount: Int) -> Int { 1 }
}
