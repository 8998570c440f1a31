import ClusterNode

/// A partition-tolerance decision as a value the hub's state machine owns and updates.
///
/// ``PartitionToleranceStrategy/makePolicy()`` gives one per hub. The machine asks it after
/// each topology batch; a policy with memory (the largest cluster seen) keeps it in itself, so
/// the same inputs always give the same answers and a simulated run replays exactly.
public protocol PartitionPolicy: Sendable {
    /// After `left` nodes left, with `members` still reachable (this node included): whether the
    /// hub has lost its quorum.
    mutating func lostQuorum(afterLeaving left: [NodeID], members: [NodeID]) -> Bool
    /// After `joined` nodes joined, with `members` reachable: whether quorum is present.
    mutating func regainedQuorum(afterJoining joined: [NodeID], members: [NodeID]) -> Bool
    /// When the hub starts with `members` reachable: whether it starts partitioned.
    mutating func startsWithoutQuorum(members: [NodeID]) -> Bool

    /// Counts quorum from `size` nodes from now on (after a deliberate scale-down); returns
    /// whether the policy counts from a cluster size at all (only then is `size` taken).
    mutating func resetClusterSize(to size: Int) -> Bool

    /// ``lostQuorum(afterLeaving:members:)`` at the machine's time `now` (measured from the
    /// machine's origin): the one the machine calls, so a policy that counts recent departures
    /// reads time from its input, never from a clock.
    mutating func lostQuorum(afterLeaving left: [NodeID], members: [NodeID], at now: Duration) -> Bool
    /// ``regainedQuorum(afterJoining:members:)`` at the machine's time `now`.
    mutating func regainedQuorum(afterJoining joined: [NodeID], members: [NodeID], at now: Duration) -> Bool

    /// What this policy tells the nodes that just joined, so that a node coming back from the
    /// other side of a split learns what this side saw meanwhile; `nil` shares nothing. The
    /// bytes are the policy's own: only ``adoptShared(_:from:reachable:at:)`` reads them.
    func sharedState(at now: Duration) -> [UInt8]?
    /// A peer's ``sharedState(at:)``, with `reachable` the hub nodes this node reaches (itself
    /// included). Returns `false` when the bytes cannot be read; the policy is then unchanged.
    mutating func adoptShared(_ state: [UInt8], from peer: NodeID, reachable: [NodeID], at now: Duration) -> Bool
}

extension PartitionPolicy {
    /// Policies that count no cluster size take no reset.
    public mutating func resetClusterSize(to size: Int) -> Bool { false }

    /// A policy that ignores time decides as without it.
    public mutating func lostQuorum(afterLeaving left: [NodeID], members: [NodeID], at now: Duration) -> Bool {
        lostQuorum(afterLeaving: left, members: members)
    }
    /// A policy that ignores time decides as without it.
    public mutating func regainedQuorum(afterJoining joined: [NodeID], members: [NodeID], at now: Duration) -> Bool {
        regainedQuorum(afterJoining: joined, members: members)
    }
    /// Shares nothing.
    public func sharedState(at now: Duration) -> [UInt8]? { nil }
    /// Takes nothing from peers.
    public mutating func adoptShared(_ state: [UInt8], from peer: NodeID, reachable: [NodeID], at now: Duration) -> Bool { true }
}

/// Asks a stateless (or internally synchronised) strategy directly.
struct StrategyPolicy: PartitionPolicy {
    let strategy: any PartitionToleranceStrategy

    func lostQuorum(afterLeaving left: [NodeID], members: [NodeID]) -> Bool {
        strategy.lostQuorum(afterLeaving: left, members: members)
    }
    func regainedQuorum(afterJoining joined: [NodeID], members: [NodeID]) -> Bool {
        strategy.regainedQuorum(afterJoining: joined, members: members)
    }
    func startsWithoutQuorum(members: [NodeID]) -> Bool { strategy.startsWithoutQuorum(members: members) }
}

/// ``MajorityQuorum`` as a value: the largest cluster seen lives here.
struct MajorityPolicy: PartitionPolicy {
    var largest: Int
    var trackMaxSize: Bool

    mutating func lostQuorum(afterLeaving left: [NodeID], members: [NodeID]) -> Bool {
        members.count < MajorityQuorum.majority(of: largest)
    }
    mutating func regainedQuorum(afterJoining joined: [NodeID], members: [NodeID]) -> Bool {
        if trackMaxSize { largest = max(largest, members.count) }
        return members.count >= MajorityQuorum.majority(of: largest)
    }
    mutating func startsWithoutQuorum(members: [NodeID]) -> Bool {
        largest = max(largest, members.count)
        return false
    }
    mutating func resetClusterSize(to size: Int) -> Bool {
        largest = size
        return true
    }
}

extension PartitionToleranceStrategy {
    /// A policy that asks this strategy; strategies with memory return a value of their own.
    public func makePolicy() -> any PartitionPolicy { StrategyPolicy(strategy: self) }
}

extension MajorityQuorum {
    /// A policy holding the largest cluster seen, starting at ``initialClusterSize``.
    public func makePolicy() -> any PartitionPolicy {
        MajorityPolicy(largest: initialClusterSize, trackMaxSize: trackMaxSize)
    }
}

/// One step of moving children from this node to another (``MigrationStrategy/steps``).
public enum MigrationStep: String, Sendable, Hashable, Codable {
    /// Start the children on the target (holding their calls when a ``deliverState`` step follows,
    /// with the captured states when a ``captureState`` step came before).
    case startOnTarget
    /// Hold calls to the local instances: nothing may change their state after it is captured.
    case sealOrigin
    /// Capture the local instances' states.
    case captureState
    /// Send the captured states to the target's instances and release their calls.
    case deliverState
    /// Stop the local instances.
    case stopOrigin
}
