import ClusterNode
import Synchronization

/// Decides whether this hub node may keep running its children, given the hub nodes it can
/// still reach (SPEC §4.5).
///
/// The hub asks after every batch of node leaves (``lostQuorum(afterLeaving:members:)``: `true`
/// means the hub becomes *partitioned*), after every batch of joins
/// (``regainedQuorum(afterJoining:members:)``: `true` means quorum is present, so a partitioned
/// hub recovers), and once when it starts (``startsWithoutQuorum(members:)``).
///
/// A partitioned hub stops its local children but keeps what its registry listed as the restart
/// manifest, refuses start and stop requests with ``HubError/Code/partitioned`` (per child
/// ``ChildError/Code/partitioned`` for requests from peers), and reports
/// ``ProcessHub/isPartitioned``. When quorum returns it restarts the children the distribution
/// strategy places on it.
///
/// `members` always counts this node and every hub peer it can reach (draining ones included).
/// A strategy that keeps state (a largest cluster size seen, a log of departures) returns a fresh
/// instance from ``attach(to:)``, so hubs started from one configuration never share it.
///
/// ```swift
/// config.partitionTolerance = StaticQuorum(quorumSize: 2)
/// ```
public protocol PartitionToleranceStrategy: Sendable {
    /// Called after `left` nodes left the hub; `members` are the hub nodes still reachable,
    /// this one included. Returns whether the hub has lost its quorum.
    func lostQuorum(afterLeaving left: [NodeID], members: [NodeID]) -> Bool

    /// Called after `joined` nodes joined the hub; `members` are the hub nodes reachable now,
    /// this one included. Returns whether quorum is present.
    func regainedQuorum(afterJoining joined: [NodeID], members: [NodeID]) -> Bool

    /// Called once when the hub starts, after it announced itself to the connected nodes:
    /// whether it starts partitioned. The default is `false`.
    func startsWithoutQuorum(members: [NodeID]) -> Bool

    /// Called once when a hub starts with this strategy; returns the strategy that hub uses
    /// (a fresh instance for a strategy with per-hub state). The default returns `self`.
    func attach(to host: StrategyHost) -> any PartitionToleranceStrategy

    /// Checks the strategy's options when a hub starts: throw
    /// ``HubError/Code/invalidConfiguration`` for values that cannot work. The default accepts.
    func validate(configuration: HubConfiguration) throws(HubError)

    /// The decision as a value the hub's state machine owns (``PartitionPolicy``). A strategy
    /// with memory returns a value holding it; the default asks the strategy itself.
    func makePolicy() -> any PartitionPolicy
}

extension PartitionToleranceStrategy {
    /// Never starts partitioned.
    public func startsWithoutQuorum(members: [NodeID]) -> Bool { false }

    /// Returns `self`: the strategy keeps no per-hub state.
    public func attach(to host: StrategyHost) -> any PartitionToleranceStrategy { self }

    /// Accepts every configuration.
    public func validate(configuration: HubConfiguration) throws(HubError) {}
}

/// Never partitioned: each side of a split keeps running and restarts the children of the nodes
/// it lost (the default). When the sides meet again, every child that runs on more nodes than
/// its strategies say is stopped everywhere but on the nodes the distribution strategy names
/// (the smallest ``NodeID`` among equals), and the registries converge.
public struct Divergence: PartitionToleranceStrategy {
    /// Creates the strategy.
    public init() {}

    /// Always `false`.
    public func lostQuorum(afterLeaving left: [NodeID], members: [NodeID]) -> Bool { false }

    /// Always `true`.
    public func regainedQuorum(afterJoining joined: [NodeID], members: [NodeID]) -> Bool { true }
}

/// A per-hub mutable value for stateful strategies (``MajorityQuorum``, ``DynamicQuorum``).
final class StrategyState<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    init(_ value: Value) { self.value = Mutex(value) }

    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        value.withLock { body(&$0) }
    }
}
