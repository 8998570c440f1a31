import ClusterNode

/// Decides on which nodes each child runs.
///
/// The hub asks its distribution strategy where a batch of children belongs when it starts them,
/// and again whenever the set of hub nodes changes, to find out which children must move. Every
/// node of the hub asks independently, so a deterministic strategy must give every node the same
/// answer for the same node set, whatever order the nodes are listed in.
///
/// A strategy is stateless from the hub's point of view: instead of keeping the node list up to
/// date through hooks (as ProcessHub's `init` and join/leave handlers do), it is handed the
/// current hub node list on every call. A strategy may still cache work keyed by that list.
///
/// ``ConsistentHashing`` is the default. Write your own by conforming a `Sendable` value type:
///
/// ```swift
/// struct EverythingOnFirstNode: DistributionStrategy {
///     func belongsTo(_ childIDs: [ChildID], replicationFactor: Int, nodes: [NodeID]) -> [ChildID: [NodeID]] {
///         let first = nodes.min().map { [$0] } ?? []
///         return Dictionary(childIDs.map { ($0, first) }, uniquingKeysWith: { a, _ in a })
///     }
///     var isDeterministic: Bool { true }
///     func signature(of nodes: [NodeID]) -> UInt64 { ConsistentHashing().signature(of: nodes) }
/// }
/// ```
public protocol DistributionStrategy: Sendable {
    /// The ordered nodes each child of a batch must run on.
    ///
    /// - Parameters:
    ///   - childIDs: The children to place. Duplicates are allowed and get one entry.
    ///   - replicationFactor: How many instances each child has (1 unless replicated).
    ///   - nodes: The current hub nodes, in any order, possibly with duplicates.
    /// - Returns: An entry for every id in `childIDs`: `min(replicationFactor, nodes.count)`
    ///   distinct nodes taken from `nodes`, the **primary** first, then the replicas. An empty
    ///   list means the child has nowhere to run.
    func belongsTo(_ childIDs: [ChildID], replicationFactor: Int, nodes: [NodeID]) -> [ChildID: [NodeID]]

    /// Whether placement depends only on the node set (and the child ids).
    ///
    /// When `true`, a node receiving a start request whose ``signature(of:)`` matches its own may
    /// trust the sender's placement instead of recomputing it.
    var isDeterministic: Bool { get }

    /// A stable hash of whatever placement depends on, stamped on start requests so the receiver
    /// can tell whether it would place children the same way.
    ///
    /// For a deterministic strategy this is a hash of the node set: equal on every node that sees
    /// the same set in any order, and stable across processes (never Swift's `Hasher`; see
    /// ``StableHash``). A non-deterministic strategy may return `0`.
    func signature(of nodes: [NodeID]) -> UInt64

    /// Whether each start names its children's nodes (``StartOptions/childMapping``), as
    /// ``Guided`` does: the hub then keeps every child where its start (or its latest move) put
    /// it, never moves it when nodes join, and a child whose nodes are all gone has nowhere to
    /// run. ``belongsTo(_:replicationFactor:nodes:)`` is not asked. The default is `false`.
    var placesByChildMapping: Bool { get }

    /// Whether ``received(_:)`` must be called even though ``isDeterministic`` is `true` (a
    /// strategy that learns placements from requests, as ``CentralizedLoadBalancer``). A
    /// non-deterministic strategy always receives them. The default is `false`, which spares a
    /// batch the cost of describing every child to a strategy that ignores it.
    var learnsFromStartRequests: Bool { get }

    /// Checks a batch on the originating node before anything is dispatched (ProcessHub's
    /// `children_init`): throw to refuse the whole batch. The default accepts everything.
    func validate(_ children: [ChildSpec], options: StartOptions, context: PlacementContext) throws(HubError)

    /// Called on a node that receives a start request, before it checks placement (ProcessHub's
    /// `pre_children_start` handler): a strategy whose placement is not a function of the node set
    /// alone learns the request's placement here. The default ignores it.
    func received(_ children: [ChildStartData])

    /// Called once when a hub starts with this strategy; returns the strategy that hub uses.
    ///
    /// A strategy that keeps per-hub state or talks to its peers through `host` returns a fresh
    /// instance bound to it: one configuration may start hubs on several nodes of one process, and
    /// they must not share that state. The default returns `self`.
    func attach(to host: StrategyHost) -> any DistributionStrategy

    /// Checks the strategy against the rest of the configuration when a hub starts: throw
    /// ``HubError/Code/invalidConfiguration`` for a combination that cannot work. The default
    /// accepts every configuration.
    func validate(configuration: HubConfiguration) throws(HubError)
}

/// What a strategy may need to know to validate a batch.
public struct PlacementContext: Sendable {
    /// The hub's nodes, this one included, sorted.
    public var nodes: [NodeID]
    /// How many instances each child has.
    public var replicationFactor: Int

    /// Creates a context.
    public init(nodes: [NodeID], replicationFactor: Int) {
        self.nodes = nodes
        self.replicationFactor = replicationFactor
    }
}

extension DistributionStrategy {
    /// Accepts every batch.
    public func validate(_ children: [ChildSpec], options: StartOptions, context: PlacementContext) throws(HubError) {}

    /// Ignores it.
    public func received(_ children: [ChildStartData]) {}

    /// Placement is the strategy's.
    public var placesByChildMapping: Bool { false }

    /// Only non-deterministic strategies receive start requests.
    public var learnsFromStartRequests: Bool { false }

    /// Returns `self`: the strategy needs nothing from the hub.
    public func attach(to host: StrategyHost) -> any DistributionStrategy { self }

    /// Accepts every configuration.
    public func validate(configuration: HubConfiguration) throws(HubError) {}

    /// The ordered nodes one child must run on, the primary first.
    ///
    /// Placing many children at once with ``belongsTo(_:replicationFactor:nodes:)`` is faster.
    public func nodes(for childID: ChildID, replicationFactor: Int, nodes: [NodeID]) -> [NodeID] {
        belongsTo([childID], replicationFactor: replicationFactor, nodes: nodes)[childID] ?? []
    }
}
