import ClusterNode

/// A majority of the largest cluster seen (SPEC §4.5, ProcessHub 0.4.1): the hub is partitioned
/// while it reaches fewer than `largest / 2 + 1` hub nodes, itself included.
///
/// ```swift
/// config.partitionTolerance = MajorityQuorum(initialClusterSize: 5)
/// ```
///
/// A 5-node cluster split 3–2 keeps the 3 side running; 3 split 2–1 keeps the 2 side; an even
/// cluster needs more than half (4 nodes need 3). The largest size seen starts at
/// ``initialClusterSize`` (or the hub nodes reachable at start, if more) and, with
/// ``trackMaxSize``, grows with every join; it never shrinks by itself, so a deliberate scale-down
/// below half needs ``ProcessHub/resetQuorumClusterSize(_:)``. Starting below a majority never
/// partitions a hub: only a departure does.
public struct MajorityQuorum: PartitionToleranceStrategy {
    /// The cluster size the hub assumes from the start. Default 1. Must be at least 1.
    public var initialClusterSize: Int
    /// Whether joins raise the largest size seen. Default `true`.
    public var trackMaxSize: Bool

    /// The largest cluster size seen by the hub this instance is attached to.
    private var largestSeen: StrategyState<Int>?

    /// Creates the strategy.
    public init(initialClusterSize: Int = 1, trackMaxSize: Bool = true) {
        self.initialClusterSize = initialClusterSize
        self.trackMaxSize = trackMaxSize
    }

    /// The smallest number of reachable hub nodes that is a majority of `size`.
    public static func majority(of size: Int) -> Int { size / 2 + 1 }

    /// The largest cluster size seen (``initialClusterSize`` before a hub attaches the strategy).
    public var largestClusterSize: Int { largestSeen?.withLock { $0 } ?? initialClusterSize }

    /// Whether fewer than a majority of the largest cluster seen remain.
    public func lostQuorum(afterLeaving left: [NodeID], members: [NodeID]) -> Bool {
        members.count < Self.majority(of: largestClusterSize)
    }

    /// Records the new size (with ``trackMaxSize``) and tells whether a majority is reachable.
    public func regainedQuorum(afterJoining joined: [NodeID], members: [NodeID]) -> Bool {
        if trackMaxSize { observe(members.count) }
        return members.count >= Self.majority(of: largestClusterSize)
    }

    /// Never: the hub records the size it starts with and starts running.
    public func startsWithoutQuorum(members: [NodeID]) -> Bool {
        observe(members.count)
        return false
    }

    /// A fresh instance whose largest size seen starts at ``initialClusterSize``.
    public func attach(to host: StrategyHost) -> any PartitionToleranceStrategy {
        var attached = self
        attached.largestSeen = StrategyState(initialClusterSize)
        return attached
    }

    /// Refuses an initial cluster size below 1.
    public func validate(configuration: HubConfiguration) throws(HubError) {
        if initialClusterSize < 1 {
            throw HubError(
                .invalidConfiguration, "MajorityQuorum's initialClusterSize must be at least 1 (got \(initialClusterSize))")
        }
    }

    /// Overwrites the largest size seen (ProcessHub's `reset_cluster_size`).
    func resetLargestClusterSize(to size: Int) {
        largestSeen?.withLock { $0 = size }
    }

    private func observe(_ size: Int) {
        largestSeen?.withLock { $0 = max($0, size) }
    }
}
