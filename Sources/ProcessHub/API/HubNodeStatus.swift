import ClusterNode

/// One node's view of a hub, as it reports it over the network (for status tools, benchmarks
/// and tests that compare nodes).
public struct HubNodeStatus: Codable, Sendable, Hashable {
    /// The reporting node.
    public var node: NodeID
    /// The hub members it sees, itself included, sorted.
    public var members: [NodeID]
    /// How many children its registry lists.
    public var registryCount: Int
    /// How many children its supervisor runs.
    public var localCount: Int
    /// Whether topology work is pending there.
    public var isLocked: Bool
    /// Whether it is partitioned.
    public var isPartitioned: Bool
    /// How many handed-over states it has applied to children it started (since the hub started).
    public var handoversApplied: Int

    /// Creates a status.
    public init(
        node: NodeID, members: [NodeID], registryCount: Int, localCount: Int, isLocked: Bool, isPartitioned: Bool,
        handoversApplied: Int = 0
    ) {
        self.handoversApplied = handoversApplied
        self.node = node
        self.members = members
        self.registryCount = registryCount
        self.localCount = localCount
        self.isLocked = isLocked
        self.isPartitioned = isPartitioned
    }
}

extension HubCore {
    func status() async -> HubNodeStatus {
        HubNodeStatus(
            node: localNode, members: hubNodes, registryCount: registry.count,
            localCount: await supervisor.runningCount, isLocked: isLocked, isPartitioned: isPartitioned,
            handoversApplied: state.withLock { $0.handoversApplied })
    }
}
