import ClusterNode

/// Moves children when the hub's topology changes (SPEC §4.3): after a node joins, the nodes
/// that host a child whose primary is now the newcomer hand it over; a drain, a graceful
/// shutdown and ``ProcessHub/migrateChild(_:to:)`` move children the same way.
///
/// ``ColdSwap`` (the default) and ``HotSwap`` are the two built-in orders of the same steps,
/// which a ``ChildMover`` provides. Write your own by conforming a `Sendable` value type.
public protocol MigrationStrategy: Sendable {
    /// Whether moved children take their state along (``HubProcess/prepareHandoverState()`` on
    /// the old instance, ``HubProcess/alterHandoverState(_:)`` on the new one).
    var handover: Bool { get }

    /// Whether children are asked before they move, and how deferrals are bounded (`nil`: not asked).
    var consent: MigrationConsent? { get }

    /// How long old instances have, together, to hand their state over.
    var stateQueryTimeout: Duration { get }

    /// How long a handed-over state (or a new instance holding its calls) waits before it is
    /// given up.
    var stateTTL: Duration { get }

    /// Whether every node starts, on its own, the children it owns that do not run there
    /// (``Autonomous``) instead of being sent them by their current hosts.
    var startsOwnedChildren: Bool { get }

    /// Moves `moves` (children running on this node) to their targets.
    func migrate(_ moves: [ChildMove], using mover: any ChildMover) async

    /// The same order as plain steps, for the hub's state machine, which drives them itself
    /// (``MigrationStep``). The default starts on the target, then stops the origin.
    var steps: [MigrationStep] { get }
}

extension MigrationStrategy {
    /// No handover.
    public var handover: Bool { false }
    /// Children are not asked.
    public var consent: MigrationConsent? { nil }
    /// 5 s.
    public var stateQueryTimeout: Duration { .seconds(5) }
    /// 30 s.
    public var stateTTL: Duration { .seconds(30) }
    /// Hosts send moving children (`false`).
    public var startsOwnedChildren: Bool { false }
    /// Start on the target, then stop the origin.
    public var steps: [MigrationStep] { [.startOnTarget, .stopOrigin] }
}

/// One child leaving this node for another.
public struct ChildMove: Sendable, Hashable {
    /// The child's registry data (its `nodes` are its new placement).
    public var data: ChildStartData
    /// The node it moves to.
    public var target: NodeID

    /// Creates a move.
    public init(data: ChildStartData, target: NodeID) {
        self.data = data
        self.target = target
    }
}

/// A child's handed-over state, encoded (the hub carries it without knowing its type).
public typealias HandoverPayload = [UInt8]

/// The steps a migration strategy orders: the hub's operations, handed to the strategy.
public protocol ChildMover: Sendable {
    /// Seals the local instances of `ids` (no remote call reaches them any more; the running
    /// ones finish) and asks each for its state, all within the strategy's state query timeout.
    /// Children that answer `nil`, fail or miss the deadline have no entry.
    func captureStates(_ ids: [ChildID]) async -> [ChildID: HandoverPayload]

    /// Stops the local instances of `ids` and withdraws them from the registry cluster-wide.
    func stopLocally(_ ids: [ChildID]) async

    /// Starts `children` on `node` in one request and returns how each went.
    ///
    /// - Parameters:
    ///   - children: The children to start, with their registry data.
    ///   - node: The node to start them on.
    ///   - states: Handed-over states, applied to the new instances before they are registered.
    ///   - holdingCalls: The new instances hold their remote calls until
    ///     ``completeHandover(_:of:on:)`` (or the state TTL) releases them.
    func start(
        _ children: [ChildStartData], on node: NodeID, states: [ChildID: HandoverPayload], holdingCalls: Bool
    ) async -> [ChildID: Result<ActorID, ChildError>]

    /// Delivers states to instances started with `holdingCalls` and releases their calls
    /// (`ids` lists every such child, with or without a state).
    func completeHandover(_ states: [ChildID: HandoverPayload], of ids: [ChildID], on node: NodeID) async
}

extension Dictionary where Key == ChildID {
    /// The entries for `ids` only.
    func restricted(to ids: some Sequence<ChildID>) -> [ChildID: Value] {
        var result: [ChildID: Value] = [:]
        for id in ids { if let value = self[id] { result[id] = value } }
        return result
    }
}

extension Array where Element == ChildMove {
    /// The moves grouped by target node.
    var byTarget: [NodeID: [ChildMove]] { Dictionary(grouping: self, by: \.target) }
}
