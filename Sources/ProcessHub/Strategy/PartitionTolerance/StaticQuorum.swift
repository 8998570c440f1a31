import ClusterNode

/// A fixed quorum (SPEC §4.5): the hub is partitioned while it reaches fewer than
/// ``quorumSize`` hub nodes, itself included.
///
/// ```swift
/// config.partitionTolerance = StaticQuorum(quorumSize: 3)   // a 5-node cluster keeps a 3–2 split's 3 side
/// ```
///
/// The check runs after nodes leave (and, with ``startupConfirm``, when the hub starts: a hub
/// that starts among too few nodes starts partitioned); quorum returns when joins bring the
/// count back to ``quorumSize``.
public struct StaticQuorum: PartitionToleranceStrategy {
    /// How many hub nodes, this one included, must be reachable. Must be at least 1.
    public var quorumSize: Int
    /// Whether a hub that starts with fewer than ``quorumSize`` reachable hub nodes starts
    /// partitioned. Default `false`.
    public var startupConfirm: Bool

    /// Creates the strategy.
    public init(quorumSize: Int, startupConfirm: Bool = false) {
        self.quorumSize = quorumSize
        self.startupConfirm = startupConfirm
    }

    /// Whether fewer than ``quorumSize`` hub nodes remain.
    public func lostQuorum(afterLeaving left: [NodeID], members: [NodeID]) -> Bool {
        members.count < quorumSize
    }

    /// Whether at least ``quorumSize`` hub nodes are reachable.
    public func regainedQuorum(afterJoining joined: [NodeID], members: [NodeID]) -> Bool {
        members.count >= quorumSize
    }

    /// With ``startupConfirm``: whether fewer than ``quorumSize`` hub nodes answered at start.
    public func startsWithoutQuorum(members: [NodeID]) -> Bool {
        startupConfirm && members.count < quorumSize
    }

    /// Refuses a quorum size below 1.
    public func validate(configuration: HubConfiguration) throws(HubError) {
        if quorumSize < 1 {
            throw HubError(.invalidConfiguration, "StaticQuorum's quorumSize must be at least 1 (got \(quorumSize))")
        }
    }
}
